package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// errLocked means another run holds the results file.
var errLocked = errors.New("results file in use by another run")

// resultsLock is an exclusive hold on a results file, so that two runs
// (an overlapping cron job, a person re-running by hand) never write the
// same results or send the same rows at once.
//
// It is an flock(2) on PATH.lock. The kernel drops the lock when the holding
// process dies, however it dies, so a lock left by a crashed run never
// blocks the next one; the file's text only names the holder for the
// message a second run prints. Linux and the BSDs have flock; cvimport does
// not build for Windows.
type resultsLock struct {
	path string
	file *os.File
}

// lockResults takes the lock for the results file at path, or fails at
// once with an error wrapping errLocked that names the holder.
func lockResults(path string) (*resultsLock, error) {
	lockPath := path + ".lock"
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}

		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := readHolder(f)
			f.Close()
			return nil, fmt.Errorf("%s: %w (%s); if that run is gone, "+
				"try again", path, errLocked, holder)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}

		// A run that released the lock unlinks the file; if it did so
		// between our open and our flock, we hold a lock on a file no one
		// else will ever open. Start again on the path's current file.
		if sameInode(f, lockPath) {
			l := &resultsLock{path: lockPath, file: f}
			return l, l.writeHolder()
		}
		f.Close()
		if attempt == 3 {
			return nil, fmt.Errorf("%s: %w (the lock file keeps changing "+
				"hands); try again", path, errLocked)
		}
	}
}

// Release drops the lock and removes the lock file.
func (l *resultsLock) Release() error {
	os.Remove(l.path)
	return l.file.Close()
}

func (l *resultsLock) writeHolder() error {
	host, _ := os.Hostname()
	text := fmt.Sprintf("pid %d on %s since %s\n", os.Getpid(), host,
		time.Now().Format(time.RFC3339))
	if err := l.file.Truncate(0); err != nil {
		return fmt.Errorf("writing lock file: %w", err)
	}
	if _, err := l.file.WriteAt([]byte(text), 0); err != nil {
		return fmt.Errorf("writing lock file: %w", err)
	}
	return nil
}

func readHolder(f *os.File) string {
	buf := make([]byte, 200)
	n, _ := f.ReadAt(buf, 0)
	holder := strings.TrimSpace(string(buf[:n]))
	if holder == "" {
		return "holder unknown"
	}
	return "held by " + holder
}

func sameInode(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}
