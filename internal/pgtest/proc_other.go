//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr puts each program in its own process group, so a terminal's
// Ctrl-C reaches only the test.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
