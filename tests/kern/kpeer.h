/*
 * kpeer — the far end of the wire for kernel tests: a hand-played TCP peer
 * at 10.0.0.1 talking to the machine's kernel at 10.0.0.2 through the TUN
 * device of a kern_ns, so a test reads like a ladder diagram:
 *
 *     kp_send(p, TCP_SYN, 1000, 0, NULL, 0);                 // peer --SYN-->     kernel
 *     kp_expect(p, TCP_SYN | TCP_ACK, &seg);                  // peer <--SYN,ACK-- kernel
 *
 * Every datagram written is built by tcp_wire_encode (both checksums);
 * every datagram read is parsed by tcp_wire_parse, and one that does not
 * parse, or is not TCP between the test's two ports, fails the test.
 *
 * kp_main runs a cmocka group when kern_probe says this machine can, and
 * otherwise prints the reason and exits KP_SKIP, which ctest reports as
 * skipped (SKIP_RETURN_CODE), never as passed.
 */
#ifndef KPEER_H
#define KPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kern.h"

#define KP_SKIP     77
#define KP_PEER     0x0a000001u /* 10.0.0.1 */
#define KP_KERNEL   0x0a000002u /* 10.0.0.2 */
#define KP_WAIT_NS  2000000000ull
#define KP_QUIET_NS 300000000ull

typedef struct kpeer {
    kern_ns *ns;
    uint16_t peer_port, kernel_port;
    uint8_t rx[KERN_DGRAM_MAX]; /* the last datagram read; kp_expect's seg points here */
    char name[48];              /* of the namespace, kept for kp_gone after close */
    uint64_t ns_id;
} kpeer;

/* Skips (exit KP_SKIP) or runs the group; returns what cmocka returns. */
struct CMUnitTest;
int kp_main(const char *group, const struct CMUnitTest *tests, size_t n);
/* kp_main for a cmocka test array. */
#define KP_MAIN(group, tests) kp_main(group, tests, sizeof(tests) / sizeof((tests)[0]))

/* The config every test starts from: kernel 10.0.0.2, one peer 10.0.0.1,
 * plus the linux profile's sysctls. */
void kp_config(kern_config *cfg);
/* Opens a namespace with cfg; fails the test if it cannot. */
void kp_open(kpeer *p, const kern_config *cfg, uint16_t peer_port, uint16_t kernel_port);
/* Closes the namespace and checks it is gone (kp_gone). */
void kp_close(kpeer *p);

/* Writes a segment from the peer with the given fields and no options. */
void kp_send(kpeer *p, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint32_t len);
/* Writes a fully described segment (addresses and ports are filled in). */
void kp_send_seg(kpeer *p, tcp_seg *seg);
/* Reads the kernel's next segment (within KP_WAIT_NS) into *seg and checks
 * its flags are exactly `flags`. */
void kp_expect(kpeer *p, uint8_t flags, tcp_seg *seg);
/* Reads the kernel's next segment, whatever its flags. */
void kp_next(kpeer *p, tcp_seg *seg);
/* Checks the kernel sends nothing for KP_QUIET_NS. */
void kp_expect_quiet(kpeer *p);

/* The kernel-side tuple of the test's connection. */
kern_tuple kp_tuple(const kpeer *p);
/* The state sock_diag shows for the connection (TCP_CLOSED if none). */
tcp_state kp_state(kpeer *p);

/* Whether nothing of namespace `name` / nsfs inode `id` is left: no name
 * under /run/netns, no mount of it, no descriptor of this process on it. */
bool kp_gone(const char *name, uint64_t id);
/* Names under /run/netns made by process `pid`. */
int kp_count_names(long pid);
/* nsfs mounts of network namespaces in this process's mount table at names
 * made by process `pid` (another checkout's kernel tests, running at the
 * same time, mount names of their own). */
int kp_count_netns_mounts(long pid);

#endif
