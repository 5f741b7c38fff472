package giteatest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppIni(t *testing.T) {
	o, err := newOptions([]Option{
		WithStaticRoot("/opt/gitea"),
		WithSetting("repository", "ENABLE_PUSH_CREATE_USER", "true"),
		WithSetting("log", "LEVEL", "Info"),
	})
	require.NoError(t, err)
	ini, err := appIni("/tmp/g", 3456, o, newSecrets())
	require.NoError(t, err)
	s := string(ini)
	for _, want := range []string{
		"HTTP_ADDR = 127.0.0.1\n",
		"HTTP_PORT = 3456\n",
		"ROOT_URL = http://127.0.0.1:3456/\n",
		"INSTALL_LOCK = true\n",
		"OFFLINE_MODE = true\n",
		"DISABLE_SSH = true\n",
		"STATIC_ROOT_PATH = /opt/gitea\n",
		"PATH = /tmp/g/data/gitea.db\n",
		"DISABLE_REGISTRATION = true\n",
		"[repository]\nROOT = /tmp/g/repos\nDEFAULT_BRANCH = main\nENABLE_PUSH_CREATE_USER = true\n",
	} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 1, strings.Count(s, "LEVEL = "), "a setting replaces the default")
	assert.Contains(t, s, "LEVEL = Info\n")
}

func TestOptionsRefused(t *testing.T) {
	for name, opt := range map[string]Option{
		"reserved user":   WithUser("admin", ""),
		"bad user":        WithUser("a b", ""),
		"listen address":  WithSetting("server", "HTTP_ADDR", "0.0.0.0"),
		"newline":         WithSetting("server", "X", "1\nHTTP_ADDR = 0.0.0.0"),
		"section bracket": WithSetting("a]\n[server", "X", "1"),
		"nil output":      WithOutput(nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := newOptions([]Option{opt})
			assert.Error(t, err)
		})
	}
}

func TestTokenRE(t *testing.T) {
	out := "New user 'railyard' has been successfully created!\n" +
		"Access token was successfully created... 0123456789abcdef0123456789abcdef01234567\n"
	m := tokenRE.FindStringSubmatch(out)
	require.NotNil(t, m)
	assert.Equal(t, "0123456789abcdef0123456789abcdef01234567", m[1])
}

func TestAuthURL(t *testing.T) {
	s := &Server{User: "railyard", Token: "tok"}
	assert.Equal(t, "http://railyard:tok@127.0.0.1:3000/railyard/x.git", s.AuthURL("http://127.0.0.1:3000/railyard/x.git"))
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 4}
	_, _ = b.Write([]byte("abc"))
	mark := b.written()
	_, _ = b.Write([]byte("de"))
	assert.Equal(t, "de", b.since(mark))
	_, _ = b.Write([]byte("fg"))
	assert.Equal(t, "defg", b.String())
	assert.Equal(t, "defg", b.since(mark), "only what is kept")
	assert.Equal(t, "g", b.since(mark+3))
}
