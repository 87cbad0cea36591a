// Command testsvc is the managed service of ysco's tests: a small HTTP server whose
// module version (from its own build info) tells which release is running.
//
// It serves "/" (module path, version and Go version), "/healthz" and "/info"
// (JSON), logs every signal it receives on stdout, and shuts down on SIGTERM.
// Environment variables make it misbehave, for tests of rollback and stop timeouts:
//
//	TESTSVC_EXIT_CODE=N       exit with code N after TESTSVC_EXIT_AFTER (default 0s)
//	TESTSVC_IGNORE_TERM=1     ignore SIGTERM (only SIGKILL stops it)
//	TESTSVC_START_DELAY=2s    wait before listening
//	TESTSVC_HEALTH=fail       answer /healthz with 500
//	TESTSVC_CHILD=1           start a child process (in the same process group) that
//	                          ignores SIGTERM, to test that stopping kills the group
//	TESTSVC_ONLY_VERSION=v1.0.1  apply the above only when running that version
//	TESTSVC_EXIT_IF_EXISTS=FILE  exit with code 4 at start when FILE exists (any version)
//
// It is written for Go 1.15 and later, so that an old toolchain can build it too.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	child := flag.Bool("child", false, "run as the lingering child process of TESTSVC_CHILD")
	flag.Parse()
	if *child {
		signal.Ignore(syscall.SIGTERM)
		time.Sleep(time.Hour)
		return
	}

	modPath, version := "(unknown)", "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		modPath, version = bi.Main.Path, bi.Main.Version
	}
	misbehave := os.Getenv("TESTSVC_ONLY_VERSION") == "" || os.Getenv("TESTSVC_ONLY_VERSION") == version
	env := func(k string) string {
		if !misbehave {
			return ""
		}
		return os.Getenv(k)
	}
	logf := func(format string, args ...interface{}) {
		fmt.Printf("testsvc %s: %s\n", version, fmt.Sprintf(format, args...))
	}

	if f := os.Getenv("TESTSVC_EXIT_IF_EXISTS"); f != "" {
		if _, err := os.Stat(f); err == nil {
			logf("%s exists, exiting with code 4", f)
			os.Exit(4)
		}
	}

	ignoreTerm := env("TESTSVC_IGNORE_TERM") == "1"
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for sig := range sigc {
			logf("signal %s", sig)
			if sig == syscall.SIGTERM && !ignoreTerm {
				logf("stopping")
				os.Exit(0)
			}
			if sig == syscall.SIGINT && !ignoreTerm {
				os.Exit(130)
			}
		}
	}()

	if code := env("TESTSVC_EXIT_CODE"); code != "" {
		n, err := strconv.Atoi(code)
		if err != nil {
			logf("bad TESTSVC_EXIT_CODE: %v", err)
			os.Exit(2)
		}
		after := parseDuration(env("TESTSVC_EXIT_AFTER"))
		go func() {
			time.Sleep(after)
			logf("exiting with code %d", n)
			os.Exit(n)
		}()
	}
	if d := env("TESTSVC_START_DELAY"); d != "" {
		time.Sleep(parseDuration(d))
	}
	healthy := env("TESTSVC_HEALTH") != "fail"
	childPid := 0
	if env("TESTSVC_CHILD") == "1" {
		cmd := exec.Command(os.Args[0], "-child")
		if err := cmd.Start(); err != nil {
			logf("starting child: %v", err)
			os.Exit(1)
		}
		childPid = cmd.Process.Pid
		logf("child pid %d", childPid)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s\n", modPath, version, runtime.Version())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !healthy {
			http.Error(w, "unhealthy", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]interface{}{
			"module":    modPath,
			"version":   version,
			"goversion": runtime.Version(),
			"pid":       os.Getpid(),
			"child":     childPid,
			"ppid":      os.Getppid(),
			"args":      os.Args,
		})
	})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		logf("listen: %v", err)
		os.Exit(1)
	}
	logf("listening on %s", l.Addr())
	if err := http.Serve(l, mux); err != nil {
		logf("serve: %v", err)
		os.Exit(1)
	}
}

func parseDuration(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		fmt.Printf("testsvc: bad duration %q: %v\n", s, err)
		os.Exit(2)
	}
	return d
}
