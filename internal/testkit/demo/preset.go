package demo

import "fmt"

// params are the knobs of one preset.
type params struct {
	commits     int     // commits on main, root included
	files       int     // bulk files in the root commit
	avgSize     int     // average bulk file size in bytes (before the spread)
	deployShare float64 // share of commits that change the deploy package
	failedShare float64 // share of commits whose build failed (no image)
	shortEvery  int     // every n-th imaged commit also gets short-SHA decoys
}

func (p Preset) params() (params, error) {
	switch p {
	case Small:
		return params{commits: 40, files: 300, avgSize: 1 << 10, deployShare: 0.15, failedShare: 0, shortEvery: 4}, nil
	case Medium:
		return params{commits: 1000, files: 20_000, avgSize: 6000, deployShare: 0.08, failedShare: 0.03, shortEvery: 10}, nil
	case Large:
		return params{commits: 5200, files: 110_000, avgSize: 11 << 10, deployShare: 0.05, failedShare: 0.03, shortEvery: 10}, nil
	}
	return params{}, fmt.Errorf("demo: unknown preset %q (want small, medium or large)", string(p))
}

// String identifies the parameters in a build marker.
func (p params) String() string {
	type plain params // without this method
	return fmt.Sprintf("%+v", plain(p))
}
