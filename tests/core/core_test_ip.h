/*
 * core_test_ip — the least IPv4 header the core's tests send: version 4,
 * IHL 5, the addresses (RFC 791 §3.1), every other byte 0. The core routes
 * by the destination address (bytes 16..19) and reads nothing else.
 */
#ifndef CORE_TEST_IP_H
#define CORE_TEST_IP_H
#include <stdint.h>
#include <string.h>

static inline void core_test_ipv4(uint8_t *d, uint32_t src, uint32_t dst)
{
    memset(d, 0, 20);
    d[0] = 0x45;
    for (int i = 0; i < 4; i++) {
        d[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        d[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
}

#endif
