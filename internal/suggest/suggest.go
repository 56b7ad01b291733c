// Package suggest finds the name a user probably meant: "did you mean" for
// template keys and values, and for command names.
package suggest

import "strings"

// Closest returns the name of valid nearest to got (case-insensitively),
// or "" when none is within maxDist edits.
func Closest(got string, valid []string, maxDist int) string {
	best, bestD := "", maxDist+1
	for _, v := range valid {
		if d := Distance(strings.ToLower(got), strings.ToLower(v)); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// Distance is the Levenshtein edit distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
