/*
 * cli — pieces of the tcpsim command shared by `run` and `test`.
 */
#ifndef CLI_H
#define CLI_H

#include <stdint.h>

#include "lsim.h"

int cli_parse_u64(const char *text, uint64_t *out);
/* Options both commands accept (-I, --profile, --unsafe, limits). Returns
 * argv entries used (1 or 2), 0 when argv[i] is not one, -1 on error. */
int cli_common_opt(lsim_config *cfg, int argc, char **argv, int i);
/* tcpsim test ... */
int cli_test(int argc, char **argv);
/* tcpsim explore ... (cmd_explore.c) */
int cli_explore(int argc, char **argv);
/* tcpsim run --schedule S [--settle D]: steers the run's nets (NULL on a
 * bad schedule or duration, message printed); after the run, settles and
 * checks the invariants: returns 1 if one failed (printed), else 0. */
struct exp_run;
struct exp_run *cli_schedule_begin(lsim_config *cfg, const char *text, const char *settle);
int cli_schedule_end(struct exp_run *r);

#endif
