// Command oracle answers questions with Go's own implementations, so that tests can
// compare ysco's TypeScript ports against them on many inputs (differential tests).
//
// Each input line is a tab-separated request; each output line is the answer:
//
//	semver.compare A B     -1, 0 or 1 (golang.org/x/mod/semver.Compare)
//	semver.canonical V     canonical form, "" when invalid
//	module.ispseudo V      true or false
//	gover.compare A B      -1, 0 or 1 (go/version.Compare)
//	gover.valid V          true or false
//	module.checkpath P     "ok" or the error
//	module.escapepath P    escaped path, or "error: ..."
//	module.escapeversion V escaped version, or "error: ..."
package main

import (
	"bufio"
	"fmt"
	"go/version"
	"os"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Split(in.Text(), "\t")
		arg := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		var answer string
		switch f[0] {
		case "semver.compare":
			answer = fmt.Sprint(semver.Compare(arg(1), arg(2)))
		case "semver.canonical":
			answer = semver.Canonical(arg(1))
		case "module.ispseudo":
			answer = fmt.Sprint(module.IsPseudoVersion(arg(1)))
		case "gover.compare":
			answer = fmt.Sprint(version.Compare(arg(1), arg(2)))
		case "gover.valid":
			answer = fmt.Sprint(version.IsValid(arg(1)))
		case "module.checkpath":
			answer = "ok"
			if err := module.CheckPath(arg(1)); err != nil {
				answer = err.Error()
			}
		case "module.escapepath":
			p, err := module.EscapePath(arg(1))
			answer = p
			if err != nil {
				answer = "error: " + err.Error()
			}
		case "module.escapeversion":
			v, err := module.EscapeVersion(arg(1))
			answer = v
			if err != nil {
				answer = "error: " + err.Error()
			}
		default:
			answer = "unknown request " + f[0]
		}
		fmt.Fprintln(out, strings.ReplaceAll(answer, "\n", " "))
	}
}
