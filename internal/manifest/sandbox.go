package manifest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/google/go-jsonnet"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// ChildEnv is set in the environment of the child process that evaluates
// Jsonnet; a program that sees it must call ServeChild and exit with its code.
const ChildEnv = "CAIRN_JSONNET_CHILD"

// Limits of the child process.
const (
	childMaxStack   = 64 << 20 // Go stack per goroutine: a deep recursion fails fast
	childMaxAddress = 4 << 30  // address space: bounds the memory a program can take
)

// The child speaks JSON lines on stdin and stdout. The parent sends one
// request; the child asks for each import and the parent answers with the
// file (the parent alone reads the repository, so the child needs no file
// system); the child ends with a result.
type childRequest struct {
	File     string `json:"file"`
	Source   string `json:"source"`
	MaxStack int    `json:"maxStack"`
}

type childMessage struct {
	Import  *childImport  `json:"import,omitempty"`
	Result  *childResult  `json:"result,omitempty"`
	Finding *diag.Finding `json:"finding,omitempty"`
}

type childImport struct {
	From string `json:"from"`
	Path string `json:"path"`
}

type childResult struct {
	Output string `json:"output"`
}

type importReply struct {
	Contents string `json:"contents"`
	FoundAt  string `json:"foundAt"`
	Error    string `json:"error,omitempty"`
}

// ServeChild evaluates one Jsonnet request when this process was started as
// the Jsonnet child (ChildEnv is set). It reports whether it served and the
// exit code the process must end with. main and TestMain call it first.
func ServeChild() (code int, served bool) {
	if os.Getenv(ChildEnv) != "1" {
		return 0, false
	}
	debug.SetMaxStack(childMaxStack)
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: childMaxAddress, Max: childMaxAddress})
	if err := serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "jsonnet child:", err)
		return 1, true
	}
	return 0, true
}

func serve(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	enc := json.NewEncoder(w)
	var req childRequest
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	imp := &remoteImporter{dec: dec, enc: enc, cache: map[string]jsonnet.Contents{}}
	out, f := evaluate(req.File, []byte(req.Source), req.MaxStack, imp)
	if f != nil {
		return enc.Encode(childMessage{Finding: f})
	}
	return enc.Encode(childMessage{Result: &childResult{Output: out}})
}

// remoteImporter asks the parent for each import.
type remoteImporter struct {
	dec   *json.Decoder
	enc   *json.Encoder
	cache map[string]jsonnet.Contents
}

// Import implements jsonnet.Importer.
func (ri *remoteImporter) Import(from, p string) (jsonnet.Contents, string, error) {
	if err := ri.enc.Encode(childMessage{Import: &childImport{From: from, Path: p}}); err != nil {
		return jsonnet.Contents{}, "", fmt.Errorf("ask for import %q: %w", p, err)
	}
	var rep importReply
	if err := ri.dec.Decode(&rep); err != nil {
		return jsonnet.Contents{}, "", fmt.Errorf("read import %q: %w", p, err)
	}
	if rep.Error != "" {
		return jsonnet.Contents{}, "", errors.New(rep.Error)
	}
	c, ok := ri.cache[rep.FoundAt]
	if !ok {
		c = jsonnet.MakeContents(rep.Contents)
		ri.cache[rep.FoundAt] = c
	}
	return c, rep.FoundAt, nil
}

// evalInChild runs the evaluation in a child process of this executable and
// answers its imports through imp. A child that crashes (a Go stack
// overflow, the memory limit) or outlives ctx becomes a finding.
func evalInChild(ctx context.Context, imp *importer, file string, src []byte, maxStack int) (string, *diag.Finding) {
	fail := func(msg string) (string, *diag.Finding) {
		f := fileFinding(file, diag.RuleJsonnet, msg)
		return "", &f
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(fmt.Sprintf("cannot start the Jsonnet sandbox: %v", err))
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail(fmt.Sprintf("cannot start the Jsonnet sandbox: %v", err))
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail(fmt.Sprintf("cannot start the Jsonnet sandbox: %v", err))
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Sprintf("cannot start the Jsonnet sandbox: %v", err))
	}
	out, f, talkErr := talk(stdin, stdout, imp, childRequest{File: file, Source: string(src), MaxStack: maxStack})
	_ = stdin.Close()
	waitErr := cmd.Wait()
	switch {
	case talkErr == nil:
		return out, f
	case ctx.Err() != nil:
		return fail(fmt.Sprintf("evaluation stopped: %v", ctx.Err()))
	default:
		return fail("evaluation crashed: " + crashReason(stderr.String(), waitErr))
	}
}

// talk sends the request, serves imports and reads the result.
func talk(stdin io.Writer, stdout io.Reader, imp *importer, req childRequest) (string, *diag.Finding, error) {
	enc := json.NewEncoder(stdin)
	dec := json.NewDecoder(bufio.NewReader(stdout))
	if err := enc.Encode(req); err != nil {
		return "", nil, err
	}
	for {
		var m childMessage
		if err := dec.Decode(&m); err != nil {
			return "", nil, err
		}
		switch {
		case m.Finding != nil:
			return "", m.Finding, nil
		case m.Result != nil:
			return m.Result.Output, nil, nil
		case m.Import != nil:
			var rep importReply
			b, foundAt, err := imp.lookup(m.Import.From, m.Import.Path)
			if err != nil {
				rep.Error = err.Error()
			} else {
				rep.Contents, rep.FoundAt = string(b), foundAt
			}
			if err := enc.Encode(rep); err != nil {
				return "", nil, err
			}
		default:
			return "", nil, errors.New("unexpected message from the Jsonnet sandbox")
		}
	}
}

// crashReason names why the child died from the first line of its stderr
// ("fatal error: stack overflow", "out of memory") or its exit status.
func crashReason(stderr string, waitErr error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	switch {
	case strings.Contains(stderr, "stack overflow") || strings.Contains(stderr, "stack exceeds"):
		return "Go stack overflow (unbounded recursion, perhaps through tailstrict)"
	case strings.Contains(stderr, "out of memory"):
		return "out of memory"
	case line != "":
		return line
	case waitErr != nil:
		return waitErr.Error()
	}
	return "the sandbox ended without a result"
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
