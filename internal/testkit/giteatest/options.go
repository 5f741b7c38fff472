package giteatest

import (
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
)

// EnvBinary names the environment variable holding the path of the gitea
// binary; .ci/tools exports it.
const EnvBinary = "RAILYARD_GITEA"

// EnvRoot names the environment variable holding Gitea's source tree, used
// as STATIC_ROOT_PATH (templates, options such as the README and license
// templates for auto-initialised repositories); .ci/tools exports it.
const EnvRoot = "RAILYARD_GITEA_ROOT"

// Option configures [Start] and [New].
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

type options struct {
	user, password, email string
	root                  string
	output                io.Writer
	settings              []setting
}

type setting struct{ section, key, value string }

var userRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,38}$`)

// newOptions applies opts over the defaults and checks the result.
func newOptions(opts []Option) (*options, error) {
	o := &options{
		user:   "railyard",
		root:   os.Getenv(EnvRoot),
		output: io.Discard,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(o); err != nil {
			return nil, err
		}
	}
	if !userRE.MatchString(o.user) || o.user == "admin" {
		return nil, errors.New("giteatest: invalid user name")
	}
	if o.password == "" {
		o.password = randomString(24)
	}
	if o.email == "" {
		o.email = o.user + "@example.com"
	}
	return o, nil
}

// WithUser sets the admin user's name and password. An empty password
// keeps the generated one. Gitea reserves some names ("admin" among them).
// The default is the user "railyard" with a random 24-character password.
func WithUser(name, password string) Option {
	return optionFunc(func(o *options) error {
		o.user, o.password = name, password
		return nil
	})
}

// WithStaticRoot sets Gitea's STATIC_ROOT_PATH, the Gitea source tree that
// holds templates/ and options/. Without it the API and git over HTTP work,
// but auto-initialised repositories cannot be created. The default is the
// value of the environment variable [EnvRoot] (unset: none).
func WithStaticRoot(dir string) Option {
	return optionFunc(func(o *options) error {
		o.root = dir
		return nil
	})
}

// WithOutput sends Gitea's log output (all its commands) to w as well, e.g.
// a testing.T writer when debugging. The last lines are kept for
// [CommandError] either way. The default is to discard it.
func WithOutput(w io.Writer) Option {
	return optionFunc(func(o *options) error {
		if w == nil {
			return errors.New("giteatest: WithOutput: nil writer")
		}
		o.output = w
		return nil
	})
}

// WithSetting sets one app.ini key, overriding the package's value, e.g.
// WithSetting("repository", "ENABLE_PUSH_CREATE_USER", "true"). section ""
// is the top level. HTTP_ADDR cannot be changed: Gitea always listens on
// 127.0.0.1. The default is the minimal configuration described in the
// package documentation.
func WithSetting(section, key, value string) Option {
	return optionFunc(func(o *options) error {
		if strings.ContainsAny(section+key+value, "\r\n") || strings.ContainsAny(section, "[]") ||
			key == "" || strings.ContainsAny(key, "=[]") {
			return errors.New("giteatest: WithSetting: invalid section or key")
		}
		if strings.EqualFold(section, "server") && strings.EqualFold(key, "HTTP_ADDR") {
			return errors.New("giteatest: WithSetting: HTTP_ADDR is fixed to 127.0.0.1")
		}
		o.settings = append(o.settings, setting{section, key, value})
		return nil
	})
}
