package manifest

import (
	"errors"
	"io/fs"
	"os"
)

// errTooLarge is returned by a limitedReadFS for a file over the limit.
var errTooLarge = errors.New("file too large")

// limitedReadFS reads whole files with a size limit, faster than Open and
// Read: the validator reads every file of a repository.
type limitedReadFS interface {
	readFileLimit(name string, max int64) ([]byte, error)
}

// DirFS is the repository in a directory on disk: os.DirFS, with a reader
// that costs four system calls a file instead of ten (an *os.File also sets
// up non-blocking I/O and the poller, which a regular file never uses) and
// never follows a symbolic link in the last element of a path.
func DirFS(dir string) fs.FS {
	return dirFS{FS: os.DirFS(dir), dir: dir}
}

type dirFS struct {
	fs.FS
	dir string
}

// ReadLink implements fs.ReadLinkFS.
func (d dirFS) ReadLink(name string) (string, error) { return fs.ReadLink(d.FS, name) }

// Lstat implements fs.ReadLinkFS.
func (d dirFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(d.FS, name) }

// ReadDir implements fs.ReadDirFS.
func (d dirFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(d.FS, name) }

// Stat implements fs.StatFS.
func (d dirFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(d.FS, name) }
