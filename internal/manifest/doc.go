// Package manifest finds and reads the documents of a cairn config
// repository: JSON files and Jsonnet programs, from a directory or any other
// fs.FS (such as a Git tree).
//
// It decodes every document into a generic JSON value, keeps what is needed
// to map a JSON pointer back to a file, line and column, and records which
// files produced each document (a Jsonnet program and everything it
// imports), so that a change can be attributed to the commits that touched
// those files. It enforces the repository's boundary: no symlink or Jsonnet
// import may lead outside it. It bounds file size, nesting depth, Jsonnet
// stack depth and evaluation time, so that hostile input yields a finding
// rather than a hang or a crash.
//
// It does not validate documents against their schemas or apply domain
// rules; internal/validate does.
package manifest
