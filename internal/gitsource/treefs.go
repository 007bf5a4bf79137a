package gitsource

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxLinkHops bounds how many symbolic links one path may go through, as
// the kernel does (ELOOP).
const maxLinkHops = 40

// errLinkOutside is a symbolic link whose target is outside the tree.
var errLinkOutside = errors.New("symbolic link leads outside the tree")

// errTooManyLinks is a path that goes through too many symbolic links.
var errTooManyLinks = errors.New("too many levels of symbolic links")

// treeFS is a commit's tree. It implements fs.ReadDirFS, fs.ReadFileFS,
// fs.StatFS and fs.ReadLinkFS.
type treeFS struct {
	repo    *Repo
	root    *node
	modTime time.Time
}

var (
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.ReadLinkFS = (*treeFS)(nil)
)

func newTreeFS(r *Repo, tree plumbing.Hash, modTime time.Time) *treeFS {
	return &treeFS{repo: r, root: &node{name: ".", mode: filemode.Dir, hash: tree}, modTime: modTime}
}

// node is one entry of the tree; what it holds is read on first use.
type node struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash

	kidsOnce sync.Once
	kids     []*node // sorted by name
	kidsErr  error

	sizeOnce sync.Once
	size     int64
	sizeErr  error
}

func (n *node) isDir() bool  { return n.mode == filemode.Dir || n.mode == filemode.Submodule }
func (n *node) isLink() bool { return n.mode == filemode.Symlink }

func (n *node) fileMode() fs.FileMode {
	switch n.mode {
	case filemode.Dir, filemode.Submodule:
		return fs.ModeDir | 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o755
	}
	return 0o644
}

// children lists a directory, reading its tree object the first time.
func (t *treeFS) children(n *node) ([]*node, error) {
	n.kidsOnce.Do(func() {
		if n.mode == filemode.Submodule {
			return // a submodule's commit lives in another repository
		}
		t.repo.mu.Lock()
		tree, err := object.GetTree(t.repo.repo.Storer, n.hash)
		t.repo.mu.Unlock()
		if err != nil {
			n.kidsErr = fmt.Errorf("read tree %s: %w", n.hash, err)
			return
		}
		kids := make([]*node, 0, len(tree.Entries))
		for _, e := range tree.Entries {
			kids = append(kids, &node{name: e.Name, mode: e.Mode, hash: e.Hash})
		}
		// Git orders a directory as if its name ended in "/"; fs.ReadDir
		// promises plain name order.
		sort.Slice(kids, func(i, j int) bool { return kids[i].name < kids[j].name })
		n.kids = kids
	})
	return n.kids, n.kidsErr
}

// blobSize reads the size of a file or link from its object header.
func (t *treeFS) blobSize(n *node) (int64, error) {
	n.sizeOnce.Do(func() {
		if n.isDir() {
			return
		}
		t.repo.mu.Lock()
		n.size, n.sizeErr = t.repo.repo.Storer.EncodedObjectSize(n.hash)
		t.repo.mu.Unlock()
		if n.sizeErr != nil {
			n.sizeErr = fmt.Errorf("read blob %s: %w", n.hash, n.sizeErr)
		}
	})
	return n.size, n.sizeErr
}

// readBlob reads the whole contents of a file or link.
func (t *treeFS) readBlob(n *node) ([]byte, error) {
	t.repo.mu.Lock()
	defer t.repo.mu.Unlock()
	b, err := object.GetBlob(t.repo.repo.Storer, n.hash)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", n.hash, err)
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", n.hash, err)
	}
	defer rd.Close()
	buf := bytes.NewBuffer(make([]byte, 0, b.Size))
	if _, err := io.Copy(buf, rd); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", n.hash, err)
	}
	return buf.Bytes(), nil
}

// lookup finds the node at name. Symbolic links on the way are followed
// within the tree; the last element is followed only when followLast.
func (t *treeFS) lookup(op, name string, followLast bool) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	n, err := t.walk(name, followLast, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, nil
}

func (t *treeFS) walk(p string, followLast bool, hops int) (*node, error) {
	cur := t.root
	if p == "." {
		return cur, nil
	}
	elems := strings.Split(p, "/")
	for i, e := range elems {
		if !cur.isDir() {
			return nil, fs.ErrNotExist
		}
		kids, err := t.children(cur)
		if err != nil {
			return nil, err
		}
		k := sort.Search(len(kids), func(j int) bool { return kids[j].name >= e })
		if k == len(kids) || kids[k].name != e {
			return nil, fs.ErrNotExist
		}
		next := kids[k]
		last := i == len(elems)-1
		if next.isLink() && (!last || followLast) {
			if hops++; hops > maxLinkHops {
				return nil, errTooManyLinks
			}
			target, err := t.readBlob(next)
			if err != nil {
				return nil, err
			}
			dir := path.Join(elems[:i]...)
			joined := path.Join(dir, string(target))
			if path.IsAbs(string(target)) || joined == ".." || strings.HasPrefix(joined, "../") {
				return nil, errLinkOutside
			}
			rest := path.Join(append([]string{joined}, elems[i+1:]...)...)
			if rest == "" {
				rest = "."
			}
			return t.walk(rest, followLast, hops)
		}
		cur = next
	}
	return cur, nil
}

// info describes n under the name it was reached by.
func (t *treeFS) info(name string, n *node) (*fileInfo, error) {
	size, err := t.blobSize(n)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: name, mode: n.fileMode(), size: size, modTime: t.modTime}, nil
}

// Open opens a file or directory, following symbolic links.
func (t *treeFS) Open(name string) (fs.File, error) {
	n, err := t.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(path.Base(name), n)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if n.isDir() {
		entries, err := t.entries(n)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &openDir{path: name, info: fi, entries: entries}, nil
	}
	return &openFile{path: name, info: fi, fs: t, node: n}, nil
}

// ReadFile reads a whole file, following symbolic links.
func (t *treeFS) ReadFile(name string) ([]byte, error) {
	n, err := t.lookup("readfile", name, true)
	if err != nil {
		return nil, err
	}
	if n.isDir() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errIsDir}
	}
	b, err := t.readBlob(n)
	if err != nil {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: err}
	}
	return b, nil
}

// ReadDir lists a directory in name order, following symbolic links.
func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := t.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	entries, err := t.entries(n)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}

// Stat describes a file, following symbolic links.
func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	return t.stat("stat", name, true)
}

// Lstat describes a file without following a symbolic link in the last
// element of name.
func (t *treeFS) Lstat(name string) (fs.FileInfo, error) {
	return t.stat("lstat", name, false)
}

func (t *treeFS) stat(op, name string, follow bool) (fs.FileInfo, error) {
	n, err := t.lookup(op, name, follow)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(path.Base(name), n)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return fi, nil
}

// ReadLink returns the target of the symbolic link at name, as committed.
func (t *treeFS) ReadLink(name string) (string, error) {
	n, err := t.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if !n.isLink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	b, err := t.readBlob(n)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(b), nil
}

func (t *treeFS) entries(n *node) ([]fs.DirEntry, error) {
	kids, err := t.children(n)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(kids))
	for i, k := range kids {
		out[i] = &dirEntry{fs: t, node: k}
	}
	return out, nil
}

var (
	errIsDir  = errors.New("is a directory")
	errNotDir = errors.New("not a directory")
)

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name    string
	mode    fs.FileMode
	size    int64
	modTime time.Time
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.modTime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

// dirEntry implements fs.DirEntry; Info reads the size when asked.
type dirEntry struct {
	fs   *treeFS
	node *node
}

func (d *dirEntry) Name() string      { return d.node.name }
func (d *dirEntry) IsDir() bool       { return d.node.isDir() }
func (d *dirEntry) Type() fs.FileMode { return d.node.fileMode().Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) {
	return d.fs.info(d.node.name, d.node)
}
func (d *dirEntry) String() string { return fs.FormatDirEntry(d) }

// openFile is an opened file; its contents are read on the first read.
type openFile struct {
	path   string
	info   *fileInfo
	fs     *treeFS
	node   *node
	r      *bytes.Reader
	closed bool
}

var (
	_ io.Seeker   = (*openFile)(nil)
	_ io.ReaderAt = (*openFile)(nil)
)

func (f *openFile) load(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.path, Err: fs.ErrClosed}
	}
	if f.r == nil {
		b, err := f.fs.readBlob(f.node)
		if err != nil {
			return &fs.PathError{Op: op, Path: f.path, Err: err}
		}
		f.r = bytes.NewReader(b)
	}
	return nil
}

func (f *openFile) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "stat", Path: f.path, Err: fs.ErrClosed}
	}
	return f.info, nil
}

func (f *openFile) Read(p []byte) (int, error) {
	if err := f.load("read"); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}

func (f *openFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.load("read"); err != nil {
		return 0, err
	}
	return f.r.ReadAt(p, off)
}

func (f *openFile) Seek(off int64, whence int) (int64, error) {
	if err := f.load("seek"); err != nil {
		return 0, err
	}
	return f.r.Seek(off, whence)
}

func (f *openFile) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.path, Err: fs.ErrClosed}
	}
	f.closed, f.r = true, nil
	return nil
}

// openDir is an opened directory; implements fs.ReadDirFile.
type openDir struct {
	path    string
	info    *fileInfo
	entries []fs.DirEntry
	offset  int
	closed  bool
}

func (d *openDir) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "stat", Path: d.path, Err: fs.ErrClosed}
	}
	return d.info, nil
}

func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errIsDir}
}

func (d *openDir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.path, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

// ReadDir follows fs.ReadDirFile: n > 0 returns at most n entries and
// io.EOF at the end; n <= 0 returns the rest.
func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.path, Err: fs.ErrClosed}
	}
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return append([]fs.DirEntry(nil), rest...), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.offset += n
	return append([]fs.DirEntry(nil), rest[:n]...), nil
}
