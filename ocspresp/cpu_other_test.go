//go:build !unix

package ocspresp

import "time"

// cpuTime is not measured here: BenchmarkHTTP reports 0 CPU per response.
func cpuTime() time.Duration { return 0 }
