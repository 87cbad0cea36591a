// Command hello prints its own build information. It is the small program the
// build info tests cross-compile for many platforms (compiling testsvc's net/http
// for each would only cost time).
package main

import (
	"fmt"
	"runtime/debug"
)

func main() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Println(bi.Main.Path, bi.Main.Version)
	}
}
