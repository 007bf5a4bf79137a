package pgtest

import "syscall"

// sysProcAttr puts each program in its own process group, so a terminal's
// Ctrl-C reaches only the test, and has the kernel kill it if the test
// process dies without calling Stop (the server's children then exit on
// their own when they see the postmaster gone).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
