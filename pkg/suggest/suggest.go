// Package suggest finds the name a typo was meant to be: the one "did you
// mean" of config keys, hosts, rings and branches.
package suggest

import "strings"

// Nearest returns the name in known nearest to name when name is
// plausibly a typo of it (at most two edits, fewer than the name is long,
// case ignored), else "".
func Nearest(name string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := distance(strings.ToLower(name), strings.ToLower(c)); d < bestD && d < len([]rune(c)) {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal string alignment (Damerau) distance, so a swap
// such as "stabel" counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
