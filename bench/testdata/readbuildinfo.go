// Command readbuildinfo times Go's own debug/buildinfo.ReadFile on a file, in
// process, as the baseline for ysco's build info reader: it prints the median
// nanoseconds of one read over the given number of reads.
package main

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
)

func main() {
	n, _ := strconv.Atoi(os.Args[2])
	times := make([]time.Duration, n)
	for i := range times {
		t0 := time.Now()
		if _, err := buildinfo.ReadFile(os.Args[1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		times[i] = time.Since(t0)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Println(times[n/2].Nanoseconds())
}
