package testcluster

import "syscall"

// sysProcAttr puts each program in its own process group, so a terminal's
// Ctrl-C reaches only the test, and has the kernel kill it if the test
// process dies without calling Stop.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
