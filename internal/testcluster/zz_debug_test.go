package testcluster

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	f, _ := os.Create("/tmp/dbg.log")
	defer f.Close()
	c, err := Start(context.Background(), Options{Nodes: 2, ControllerManager: true, Scheduler: true, Kwok: true, Log: f})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
}
