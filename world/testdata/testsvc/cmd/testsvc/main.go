// Command testsvc is the managed service of ysco's tests: a small HTTP server whose
// module version (from its own build info) tells which release is running.
//
// It serves "/" (module path, version and Go version), "/healthz" and "/info"
// (JSON), logs every signal it receives on stdout, and shuts down gracefully on
// SIGTERM (no new connections, the open ones answered). It listens on -addr, or,
// when started with systemd's socket activation (LISTEN_PID is its pid and
// LISTEN_FDS at least 1), on the sockets at fds 3.. (ignoring -addr); /info tells
// which.
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
	"context"
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
	"strings"
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

	// Taken first, before a child is started: the descriptors are inheritable.
	listeners, infos, err := passedListeners()
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}

	ignoreTerm := env("TESTSVC_IGNORE_TERM") == "1"
	srv := &http.Server{}
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for sig := range sigc {
			logf("signal %s", sig)
			if sig == syscall.SIGTERM && !ignoreTerm {
				logf("stopping")
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				srv.Shutdown(ctx)
				cancel()
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
			"listeners": infos,
		})
	})
	if listeners == nil {
		l, err := net.Listen("tcp", *addr)
		if err != nil {
			logf("listen: %v", err)
			os.Exit(1)
		}
		listeners = []net.Listener{l}
		infos = []listenerInfo{{From: "-addr", Addr: l.Addr().String()}}
	}
	srv.Handler = mux
	for i, l := range listeners {
		logf("listening on %s (%s)", l.Addr(), infos[i].From)
		go func(l net.Listener) {
			if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
				logf("serve: %v", err)
				os.Exit(1)
			}
		}(l)
	}
	select {} // until a signal ends it
}

// listenerInfo tells in /info where a listener came from.
type listenerInfo struct {
	From string `json:"from"` // "-addr" or "fd N"
	Name string `json:"name,omitempty"`
	Addr string `json:"addr"`
}

// passedListeners returns the listeners of systemd's socket activation: fds 3..
// when LISTEN_PID is this process, named by LISTEN_FDNAMES; nil otherwise. Like
// go-systemd's activation package, it unsets the variables, so that children do
// not take them for theirs, and makes the descriptors close-on-exec.
func passedListeners() ([]net.Listener, []listenerInfo, error) {
	pid, fds, names := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	n, err := strconv.Atoi(fds)
	if pid != strconv.Itoa(os.Getpid()) || err != nil || n < 1 {
		return nil, nil, nil
	}
	nameList := strings.Split(names, ":")
	var listeners []net.Listener
	var infos []listenerInfo
	for i := 0; i < n; i++ {
		fd := 3 + i
		syscall.CloseOnExec(fd)
		name := ""
		if i < len(nameList) {
			name = nameList[i]
		}
		f := os.NewFile(uintptr(fd), name)
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("listener from fd %d: %v", fd, err)
		}
		listeners = append(listeners, l)
		infos = append(infos, listenerInfo{From: fmt.Sprintf("fd %d", fd), Name: name, Addr: l.Addr().String()})
	}
	return listeners, infos, nil
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
