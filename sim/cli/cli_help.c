/*
 * cli_help — every --help text of the tcpsim command, and the manual page
 * (`tcpsim man`, installed as tcpsim.1) generated from those same texts, so
 * the two cannot say different things.
 *
 * The texts follow one layout that the roff generator relies on: a section
 * starts with a line ending in ':' ("options:"); an entry is two spaces, a
 * term, two or more spaces and its description, continued on lines indented
 * deeper; other indented lines (examples) are kept as typed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char MAIN_HELP[] =
    "usage: tcpsim COMMAND [options]\n"
    "\n"
    "A deterministic network simulator with its own RFC 9293 TCP, driven by Lua\n"
    "scenarios. The same scenario and seed give a byte-identical run.\n"
    "\n"
    "commands:\n"
    "  run FILE.lua    run one scenario and show what happened\n"
    "  test [PATHS]    run many scenarios in parallel, for CI\n"
    "  pkt FILE.pkt    run a packetdrill script against a tcpsim host\n"
    "  explore FILE    run the scenario under every small fault schedule\n"
    "  swarm FILE      run the scenario over many seeds, each with its own link\n"
    "                  knobs and fault rates\n"
    "  kernel FILE.lua play one host with this machine's Linux TCP and compare\n"
    "                  with the simulation (root)\n"
    "  profiles [-v]   list the behaviour profiles and their knobs\n"
    "  new NAME        write a commented template scenario NAME.lua\n"
    "  help [COMMAND]  print the help of a command\n"
    "  man             print this manual as a man page (roff)\n"
    "  version         print the version\n"
    "\n"
    "Every command takes --help.\n"
    "\n"
    "environment:\n"
    "  TCPSIM_PATH     folders (separated by ':') where require() also finds\n"
    "                  scenario modules, after -I\n"
    "\n"
    "files:\n"
    "  ../share/tcpsim/lib  next to the program (/usr/share/tcpsim/lib when installed\n"
    "                  in /usr): the scenario library (pair.lua), found by require()\n"
    "                  without -I\n"
    "  ../share/tcpsim/types  the editor annotations of the scenario API (LuaLS)\n";

static const char RUN_HELP[] =
    "usage: tcpsim run FILE.lua [options]\n"
    "\n"
    "Runs one scenario, prints each endpoint's state trace and the verdict. FILE '-'\n"
    "reads the scenario from standard input. A scenario that checks no expectation\n"
    "fails.\n"
    "\n"
    "options:\n"
    "  --seed N              override the scenario's seed\n"
    "  --profile P           override the scenario's profile (rfc9293, linux, bsd)\n"
    "  --draws stream|keyed  override the scenario's link draws (tcpsim.new draws):\n"
    "                        keyed draws a TCP segment's fate from the segment, as\n"
    "                        both runs of tcpsim kernel do\n"
    "  --ladder              print the ladder (sequence) diagram\n"
    "  --width N             ladder width in columns, 40-1000 (default 80): no line\n"
    "                        is longer; long labels and notes wrap\n"
    "  --relative-seq        ladder and SVG: seq and ack relative to each side's ISN\n"
    "                        (its SYN's seq), as Wireshark shows them\n"
    "  --trace text|json     print every record of the run, one per line; the rest\n"
    "                        (print, FAIL lines, summary) then goes to standard error\n"
    "  --trace-out FILE      write the trace there instead of standard output\n"
    "  --pcap FILE           write the packets as a pcap file (Wireshark, tshark)\n"
    "  --pcapng FILE         pcapng with each state change (and TIME_WAIT restart) as\n"
    "                        a packet comment\n"
    "  --pcap-at HOST        capture at HOST, as a tcpdump there would: what it sent\n"
    "                        and what reached it; `sender`: every link's sending end\n"
    "                        (the default with two hosts); `receiver`: every link's\n"
    "                        receiving end; HOST:PEER: HOST's end of the link to PEER.\n"
    "                        Default with more than two hosts: one capture per host,\n"
    "                        FILE.HOST.pcap (and FILE.HOST.pcapng)\n"
    "  --svg FILE            the ladder diagram as SVG\n"
    "  --svg-style S         plain (default) or slides: a title, larger text, 16:9\n"
    "  --svg-window A-B      the SVG draws only what happened from A to B ms\n"
    "  --svg-control         the SVG draws only segments with SYN, FIN or RST\n"
    "  --state-diagram FILE  the RFC 9293 state diagram (Graphviz DOT), path taken\n"
    "                        highlighted\n"
    "  --endpoint E          the state diagram of endpoint E only: a host name\n"
    "                        (its sockets) or HOST#SOCKET, e.g. B#2\n"
    "  --html FILE           a page to step through the run: ladder, state diagrams,\n"
    "                        rules\n"
    "  --lang en|zh          the page's language (zh: Simplified Chinese labels and\n"
    "                        rule explanations)\n"
    "  --why                 the RFC rule behind each state change (text trace,\n"
    "                        ladder)\n"
    "  --sim N               outputs of the N-th simulation the file builds only\n"
    "                        (default: all; file names then get .simN before the\n"
    "                        extension)\n"
    "  --watch               run again each time the file changes (Ctrl-C stops)\n"
    "  --quiet               print only failures and errors\n"
    "  --check               check the stack's invariants after every event (on in\n"
    "                        debug builds); a violation stops the run (exit 2)\n"
    "  --schedule S          apply faults at decision points, e.g. 7:drop,12:dup (as\n"
    "                        tcpsim explore prints them), then check its invariants\n"
    "  --settle D            with --schedule: time the run may settle after the\n"
    "                        scenario before the invariants (default 10min)\n"
    "  --swarm KNOBS         give every link these knobs and draw faults at these\n"
    "                        rates, e.g. loss=0.05,delay=20ms,fault_drop=0.01 (as\n"
    "                        tcpsim swarm prints them), then check its invariants\n"
    "                        (settling 1h unless --settle, as tcpsim swarm does)\n"
    "  -I DIR                also look for require()d modules in DIR\n"
    "  --unsafe              give the scenario io, os and C modules (no sandbox)\n"
    "  --max-events N        stop a run after N events (default 100000000)\n"
    "  --max-time D          stop a run at virtual time D (default 24h)\n"
    "  --max-instructions N  stop a script after N Lua instructions (default 1e9)\n"
    "  --max-memory SIZE     stop a script past SIZE of memory, Lua and C (default 2GiB)\n"
    "  --max-wall D          stop a run after D of wall-clock time (default 1h); a\n"
    "                        safety limit that never changes what a run does\n"
    "\n"
    "exit status: 0 all expectations held, 1 an expectation failed or none was\n"
    "checked, 2 error\n"
    "\n"
    "examples:\n"
    "  tcpsim run scenarios/teardown/lost_final_ack.lua --ladder\n"
    "  tcpsim run scenarios/handshake/simultaneous_open.lua --pcapng open.pcapng\n"
    "  tcpsim run my.lua --seed 42 --trace json | jq -c 'select(.kind==\"state\")'\n"
    "  tcpsim run my.lua --ladder --watch\n";

static const char TEST_HELP[] =
    "usage: tcpsim test [PATHS...] [options]\n"
    "\n"
    "Runs every scenario found in PATHS (files, folders searched recursively for\n"
    "*.lua and *.pkt, skipping lib/ folders, or glob patterns; default:\n"
    "scenarios/), each in its own process, and ends with the line\n"
    "'N passed, N failed'. A scenario passes when it exits 0 having checked at\n"
    "least one expectation. Each failure names the tcpsim run (or pkt) command,\n"
    "with every option that changes the run, that replays it.\n"
    "\n"
    "options:\n"
    "  --jobs N, -j N        processes at once (default: the number of processors)\n"
    "  --seeds A..B          run each scenario once per seed A..B (overrides its seed)\n"
    "  --shard I/N           run only the I-th of N equal shares of the work\n"
    "                        (1-based)\n"
    "  --junit FILE          write a JUnit XML report (Jenkins, GitLab)\n"
    "  --tap                 print TAP instead of one line per scenario\n"
    "  --quiet               print failures and the closing line only\n"
    "  --html DIR            write each run's stepper page and an index.html into DIR\n"
    "  -I DIR                passed on to every run (see tcpsim run --help)\n"
    "  --profile P           passed on to every run\n"
    "  --draws stream|keyed  passed on to every run\n"
    "  --unsafe              passed on to every run\n"
    "  --check               passed on to every run\n"
    "  --max-events N        passed on to every run\n"
    "  --max-time D          passed on to every run\n"
    "  --max-instructions N  passed on to every run\n"
    "  --max-memory SIZE     passed on to every run\n"
    "  --max-wall D          passed on to every run\n"
    "  --timeout D           kill a run still going after D of wall-clock time and\n"
    "                        report it as an error (default 10min)\n"
    "\n"
    "with --kernel, each scenario is played by tcpsim kernel instead (one host by\n"
    "this machine's Linux, compared with the simulation; see docs/kernel.md):\n"
    "verdicts AGREE (passed), DIFFER or ERROR (failed), REFUSED (the kernel cannot\n"
    "play it) and SKIPPED (no root, TUN or netns), neither passed nor failed.\n"
    "  --kernel-host NAME    the host the kernel plays in every scenario (default:\n"
    "                        each scenario's '-- kernel-host: NAME' line, or the rule)\n"
    "  --checks LIST         the checks that decide (default states,segments,timing)\n"
    "  --tolerance D         timing tolerance, passed on to tcpsim kernel\n"
    "  --jobs N, -I DIR, --quiet  as above\n"
    "\n"
    "exit status: 0 all passed, 1 a scenario failed, 2 bad command line;\n"
    "with --kernel, 77 when every scenario was skipped\n"
    "\n"
    "examples:\n"
    "  tcpsim test scenarios/\n"
    "  tcpsim test scenarios/teardown --seeds 1..200 --jobs 8\n"
    "  tcpsim test scenarios/ --shard 2/4 --junit results.xml\n";

static const char PROFILES_HELP[] =
    "usage: tcpsim profiles [-v]\n"
    "\n"
    "Lists the behaviour profiles (rfc9293, linux, bsd) with their main values, and\n"
    "the knobs a scenario may set in tcpsim.new{...} or sim:host{...}.\n"
    "\n"
    "options:\n"
    "  -v, --verbose         every knob of every profile, and the fixed behaviours\n";

static const char NEW_HELP[] =
    "usage: tcpsim new NAME\n"
    "\n"
    "Writes NAME.lua (NAME if it already ends in .lua): a commented scenario that\n"
    "builds two hosts, opens and closes a connection and checks the state traces.\n"
    "It runs as is; edit it from there. An existing file is never overwritten.\n"
    "\n"
    "examples:\n"
    "  tcpsim new my_case && tcpsim run my_case.lua --ladder\n";

static const char HELP_HELP[] =
    "usage: tcpsim help [COMMAND]\n"
    "\n"
    "Prints the help of COMMAND (the same as tcpsim COMMAND --help), or of tcpsim.\n";

static const char MAN_HELP[] =
    "usage: tcpsim man\n"
    "\n"
    "Prints the manual page, made from the help texts, in roff: man -l <(tcpsim man)\n";

static const char VERSION_HELP[] = "usage: tcpsim version\n"
                                   "\n"
                                   "Prints the version.\n";

static const char PKT_HELP[] =
    "usage: tcpsim pkt FILE.pkt [options]\n"
    "\n"
    "Runs a packetdrill script (TCP/IPv4) against a tcpsim host in virtual time.\n"
    "\n"
    "options:\n"
    "  --profile NAME         the host's profile (default linux)\n"
    "  --tolerance_usecs N    allowed timing deviation (default: the script's, else 4000)\n"
    "  --tolerance_percent P  or P % of the time since the previous event, if more\n"
    "  --seed N               the world's seed (ISNs, ports)\n"
    "  --ladder               print the ladder diagram of the run\n"
    "  --trace text|json      print the run log\n"
    "  --pcap FILE            write the segments as a pcap file\n"
    "  --quiet                print nothing on a pass\n"
    "\n"
    "exit status: 0 pass, 1 mismatch, 2 unsupported construct or malformed script\n";

static const char KERNEL_HELP[] =
    "usage: tcpsim kernel FILE.lua [options]\n"
    "\n"
    "Runs the scenario with one host played by this machine's Linux TCP (in a\n"
    "private network namespace, in real time), runs it again fully simulated\n"
    "under the linux profile, and compares the two runs.\n"
    "\n"
    "options:\n"
    "  --kernel-host NAME    the host the kernel plays (default: the scenario's\n"
    "                        '-- kernel-host: NAME' line, else the last host made\n"
    "                        whose sockets avoid TIME_WAIT in the simulation)\n"
    "  --tolerance D         timing tolerance per segment (default 20ms; plus 5 %),\n"
    "                        and the least a raw peer's expect takes\n"
    "  --width N             ladder width in columns (default 80)\n"
    "  --no-ladder           do not print the ladders\n"
    "  --pcap FILE           the kernel run's packets as a pcap file\n"
    "  -I DIR, --unsafe, --max-events N, --max-time D, --max-instructions N\n"
    "                        as for tcpsim run\n"
    "\n"
    "needs root, /dev/net/tun and network namespaces.\n"
    "exit status: 0 the runs agree, 1 they differ, 2 error, 3 refused (the kernel\n"
    "endpoint cannot play the scenario: crash, a knob with no sysctl...)\n";

static const char EXPLORE_HELP[] =
    "usage: tcpsim explore FILE.lua [options]\n"
    "       tcpsim explore --merge REPORT... [--coverage FILE]\n"
    "\n"
    "Runs the scenario under every schedule of at most K faults on the segments\n"
    "entering links (decision points, numbered from 1) and checks the invariants\n"
    "on each run: the stack's checks, every connection CLOSED or waiting for its\n"
    "user, bytes read exactly once and in order, no limit hit.\n"
    "\n"
    "options:\n"
    "  --faults K            at most K faults per schedule (default 1, at most 8)\n"
    "  --kinds LIST          drop,dup,delay,reorder (default drop,dup)\n"
    "  --segments A..B       faults only at decision points A to B\n"
    "  --max-schedules N     refuse above N schedules (default 10000000)\n"
    "  --jobs N              run schedules in N processes\n"
    "  --shard I/N           run the I-th of N parts (1 <= I <= N)\n"
    "  --report-out FILE     write the partial report (for --merge) there\n"
    "  --coverage FILE       write the coverage as text to FILE and DOT to FILE.dot\n"
    "  --settle D            after the scenario, let each run settle D (default 10min)\n"
    "  --emit-scenario DIR   write each shrunk failure to DIR as a scenario whose\n"
    "                        faults are link rules (runs with no --schedule)\n"
    "  --no-shrink           report and emit each failure's first schedule as found\n"
    "  --fork-tree           run each common prefix once, forking at decision points,\n"
    "                        not every schedule from scratch (the same report;\n"
    "                        docs/explore.md says which is faster where)\n"
    "  --seed N, --profile P, -I DIR, --unsafe, --max-events N, --max-time D\n"
    "\n"
    "examples:\n"
    "  tcpsim explore scenarios/teardown/active_close.lua --faults 2\n"
    "  tcpsim explore my.lua --faults 2 --shard 1/4 --report-out part1.txt\n"
    "  tcpsim explore --merge part1.txt part2.txt part3.txt part4.txt\n";

static const char SWARM_HELP[] =
    "usage: tcpsim swarm FILE.lua [--seeds A..B] [options]\n"
    "       tcpsim swarm --merge REPORT...\n"
    "\n"
    "Runs the scenario once per seed. Each seed draws its own link knobs (loss,\n"
    "duplicate, reorder, delay, jitter, mtu: every link gets them) and fault rates\n"
    "(fault_drop, fault_dup, fault_delay, fault_reorder: per decision point, the\n"
    "faults of tcpsim explore) within ranges, and each run is checked against\n"
    "explore's invariants. A knob left to its default range is drawn for about half\n"
    "the seeds; one given a range, for every seed. Each failure is shrunk (knobs\n"
    "turned off, values narrowed, the faults drawn written as a schedule and\n"
    "shrunk) and printed with the tcpsim run line that replays it.\n"
    "\n"
    "options:\n"
    "  --seeds A..B          the seeds to run (default 1..100)\n"
    "  --loss R              a knob's range: A..B, one value, or off; the knobs\n"
    "                        are --loss, --duplicate, --reorder (probabilities),\n"
    "                        --delay, --jitter (durations), --mtu (bytes),\n"
    "                        --fault-drop, --fault-dup, --fault-delay,\n"
    "                        --fault-reorder (probabilities per decision point);\n"
    "                        they win over the scenario's swarm option\n"
    "  --jobs N              run seeds in N processes\n"
    "  --shard I/N           run the I-th of N parts of the seeds (1 <= I <= N)\n"
    "  --report-out FILE     write the partial report (for --merge) there\n"
    "  --settle D            after the scenario, let each run settle D (default 1h)\n"
    "  --emit-scenario DIR   write each shrunk failure to DIR as a scenario (seed,\n"
    "                        knobs and faults written in it)\n"
    "  --no-shrink           report each failure's first run as found\n"
    "  --profile P, -I DIR, --unsafe, --max-events N, --max-time D\n"
    "\n"
    "exit status: 0 no invariant failed, 1 one failed, 2 bad usage or error\n"
    "\n"
    "examples:\n"
    "  tcpsim swarm scenarios/teardown/active_close.lua --seeds 1..200 --jobs 2\n"
    "  tcpsim swarm my.lua --seeds 1..1000 --loss 0..0.3 --mtu off\n"
    "  tcpsim swarm my.lua --seeds 1..1000 --shard 1/2 --report-out part1.txt\n"
    "  tcpsim swarm --merge part1.txt part2.txt\n";

static const struct {
    const char *name, *text;
} HELPS[] = {{"tcpsim", MAIN_HELP},       {"run", RUN_HELP},         {"test", TEST_HELP},
             {"profiles", PROFILES_HELP}, {"new", NEW_HELP},         {"help", HELP_HELP},
             {"man", MAN_HELP},           {"version", VERSION_HELP}, {"pkt", PKT_HELP},
             {"kernel", KERNEL_HELP},     {"explore", EXPLORE_HELP}, {"swarm", SWARM_HELP}};
#define NHELPS (sizeof HELPS / sizeof HELPS[0])

const char *cli_help(const char *cmd)
{
    for (size_t i = 0; i < NHELPS; i++)
        if (strcmp(HELPS[i].name, cmd) == 0)
            return HELPS[i].text;
    return NULL;
}

int cli_help_cmd(int argc, char **argv)
{
    const char *cmd = argc > 2 && argv[2][0] != '-' ? argv[2] : "tcpsim";
    const char *text = cli_help(cmd);
    if (!text) {
        const char *names[NHELPS + 1];
        for (size_t i = 0; i < NHELPS; i++)
            names[i] = HELPS[i].name;
        names[NHELPS] = NULL;
        const char *near = cli_suggest(cmd, names);
        fprintf(stderr, "tcpsim help: no command '%s'%s%s%s\n", cmd, near ? " (did you mean " : "",
                near ? near : "", near ? "?)" : "");
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 && argc > 2 && argv[2][0] == '-')
        text = HELP_HELP;
    fputs(text, stdout);
    return 0;
}

/* ---- The manual page ---- */

/* Writes n bytes of s escaped for roff text. */
static void roff_text(const char *s, size_t n)
{
    if (n && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", stdout);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", stdout);
        else if (s[i] == '-')
            fputs("\\-", stdout);
        else
            putchar(s[i]);
    }
}

static size_t indent_of(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    return i;
}

/* For "  TERM  description", the length of TERM (0 when no such gap). */
static size_t term_len(const char *line, size_t len)
{
    for (size_t i = 2; i + 1 < len; i++)
        if (line[i] == ' ' && line[i + 1] == ' ')
            return i - 2;
    return 0;
}

typedef enum roff_mode { R_FILL, R_ENTRY, R_VERBATIM } roff_mode;

static roff_mode roff_line(const char *line, size_t len, roff_mode mode)
{
    size_t ind = indent_of(line, len);
    if (len == 0) {
        puts(mode == R_VERBATIM ? ".fi\n.RE\n.PP" : ".PP");
        return R_FILL;
    }
    if (ind == 0) {
        if (mode != R_FILL)
            puts(mode == R_VERBATIM ? ".fi\n.RE\n.PP" : ".PP");
        bool head = line[len - 1] == ':' || strncmp(line, "usage:", 6) == 0 ||
                    strncmp(line, "exit status:", 12) == 0;
        if (head)
            fputs(".B ", stdout);
        roff_text(line, len);
        putchar('\n');
        return R_FILL;
    }
    if (mode == R_ENTRY && ind > 2) { /* continuation of an entry */
        roff_text(line + ind, len - ind);
        putchar('\n');
        return R_ENTRY;
    }
    size_t t = ind == 2 ? term_len(line, len) : 0;
    if (t) {
        puts(".TP");
        fputs(".B ", stdout);
        roff_text(line + 2, t);
        putchar('\n');
        size_t d = 2 + t + indent_of(line + 2 + t, len - 2 - t);
        roff_text(line + d, len - d);
        putchar('\n');
        return R_ENTRY;
    }
    if (mode != R_VERBATIM)
        puts(".RS 4\n.nf");
    roff_text(line + ind, len - ind);
    putchar('\n');
    return R_VERBATIM;
}

static void roff_help(const char *text)
{
    roff_mode mode = R_FILL;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        mode = roff_line(p, len, mode);
        p += len + (nl ? 1 : 0);
    }
    if (mode == R_VERBATIM)
        puts(".fi\n.RE");
}

int cli_man(int argc, char **argv)
{
    if (argc > 2) {
        if (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
            fputs(MAN_HELP, stdout);
            return 0;
        }
        fprintf(stderr, "tcpsim man: takes no arguments (try tcpsim man --help)\n");
        return 2;
    }
    printf(".TH TCPSIM 1 \"\" \"tcpsim %s\" \"User Commands\"\n.nh\n", CLI_VERSION);
    puts(".SH NAME\ntcpsim \\- deterministic network simulator with its own TCP, driven by Lua");
    puts(".SH SYNOPSIS\n.B tcpsim\n.I COMMAND\n[options]");
    puts(".SH DESCRIPTION");
    roff_help(MAIN_HELP);
    for (size_t i = 1; i < NHELPS; i++) {
        fputs(".SH \"TCPSIM ", stdout);
        for (const char *c = HELPS[i].name; *c; c++)
            putchar(toupper((unsigned char)*c));
        puts("\"");
        roff_help(HELPS[i].text);
    }
    puts(".SH \"SEE ALSO\"\nThe scenario guide and API reference, docs/scenarios.md "
         "(/usr/share/doc/tcpsim when installed).");
    return 0;
}
