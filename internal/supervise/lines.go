package supervise

import (
	"fmt"
	"io"
	"sync"
)

// Output serializes whole lines to one writer, so that the lines of the
// agent and of the supervisor sharing it never interleave.
type Output struct {
	mu sync.Mutex
	w  io.Writer
}

// NewOutput returns an Output writing to w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Lines returns a writer of lines to o, each starting with prefix.
func (o *Output) Lines(prefix string) *Lines { return &Lines{out: o, prefix: prefix} }

// Lines writes whole lines with a prefix, one Write each.
type Lines struct {
	out    *Output
	prefix string
}

// Printf writes one line, adding the newline if format lacks it.
func (l *Lines) Printf(format string, args ...any) {
	l.line([]byte(fmt.Sprintf(format, args...)))
}

func (l *Lines) line(b []byte) {
	buf := make([]byte, 0, len(l.prefix)+len(b)+1)
	buf = append(append(buf, l.prefix...), b...)
	if buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	l.out.mu.Lock()
	defer l.out.mu.Unlock()
	l.out.w.Write(buf)
}
