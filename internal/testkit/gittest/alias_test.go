package gittest_test

import (
	"github.com/go-git/go-git/v5/config"
)

type gogitRefSpec = config.RefSpec

var gogitRemote = config.RemoteConfig{Name: "origin", URLs: []string{"http://invalid.invalid/unused.git"}}
