/* Runs a command and prints the CPU time it used, all its threads, user + system, as the last
 * line of stderr: "cputime: user=U sys=S" (seconds). On Linux the sum is precise (the scheduler's
 * runtime), unlike wall time it leaves out what other processes took while it waited to run.
 * Exits with the command's status. Build: gcc -O2 -o cputime cputime.c   Run: ./cputime cmd args... */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s command [args...]\n", argv[0]);
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 2;
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) return perror("wait4"), 2;
  fprintf(stderr, "cputime: user=%ld.%06ld sys=%ld.%06ld\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
          (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
