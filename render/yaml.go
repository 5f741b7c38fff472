package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Alias amplification is measured in bytes: a document whose aliases
// expand to more than aliasFloor bytes and to more than aliasRatio times
// its own size is an alias bomb. Every node costs nodeBytes on top of its
// scalar's bytes, so that many tiny nodes count too.
const (
	aliasFloor = 1 << 20
	aliasRatio = 10
	nodeBytes  = 4
)

// objectID identifies an object the way Diff matches objects: API group,
// kind, namespace and name.
type objectID struct {
	Group, Kind, Namespace, Name string
}

func (id objectID) String() string {
	gk := id.Kind
	if id.Group != "" {
		gk += "." + id.Group
	}
	if id.Namespace == "" {
		return gk + " " + id.Name
	}
	return gk + " " + id.Namespace + "/" + id.Name
}

func newObjectID(apiVersion, kind, namespace, name string) objectID {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = ""
	}
	return objectID{Group: group, Kind: kind, Namespace: namespace, Name: name}
}

// resID identifies an object the way kustomize does when it refuses
// duplicates: apiVersion (group and version), kind, namespace and name,
// with an empty namespace being "default". kustomize also treats
// cluster-scoped objects in different namespaces as one; Build leaves that
// case to kustomize, which needs the OpenAPI schema to tell.
type resID struct {
	APIVersion, Kind, Namespace, Name string
}

func (id resID) String() string {
	return id.Kind + "." + id.APIVersion + " " + id.Namespace + "/" + id.Name
}

// yamlScan is what scanning a YAML file learnt.
type yamlScan struct {
	ids      []resID // objects with a kind and a name, in order
	docs     int     // non-empty documents
	expanded int64   // bytes, aliases expanded (at least the file's size)
	largest  int64   // expanded bytes of the largest document
}

// measureYAML sizes a YAML stream without parsing it: its documents are
// counted at "---" lines (an upper bound), its size is its length (no
// aliases to expand: the caller checked there is no '*').
func measureYAML(data []byte) yamlScan {
	s := yamlScan{expanded: int64(len(data))}
	start := 0
	for i := 0; i <= len(data); i++ {
		atSep := i == len(data) || (i == 0 || data[i-1] == '\n') && bytes.HasPrefix(data[i:], []byte("---"))
		if !atSep {
			continue
		}
		if doc := data[start:i]; len(bytes.TrimSpace(doc)) > 0 {
			s.docs++
			s.largest = max(s.largest, int64(len(doc)))
		}
		start = i
		if i < len(data) {
			i += 2
		}
	}
	return s
}

// decodeDocs parses data as a stream of YAML documents, refusing malformed
// YAML and alias bombs.
func decodeDocs(data []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	_, err := eachDoc(data, func(doc *yaml.Node, _ int64) { docs = append(docs, doc) })
	return docs, err
}

// eachDoc decodes data document by document, checks each for recursive
// aliases and alias bombs, and calls fn with it and its expanded size.
// Documents are not kept, so memory stays that of the largest one. It
// returns the expanded size of all of data.
func eachDoc(data []byte, fn func(doc *yaml.Node, expanded int64)) (int64, error) {
	aliases := bytes.IndexByte(data, '*') >= 0 // no '*', no alias
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var total int64
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return max(total, int64(len(data))), nil
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrInvalidYAML, err)
		}
		size := int64(-1)
		if aliases {
			if size, err = checkAliases(doc); err != nil {
				return 0, err
			}
		}
		if size < 0 {
			size = literalSize(doc)
		}
		total += size
		fn(doc, size)
	}
}

// scanYAML checks data like decodeDocs and returns what the walk and the
// output estimate need.
func scanYAML(data []byte) (yamlScan, error) {
	var s yamlScan
	expanded, err := eachDoc(data, func(doc *yaml.Node, size int64) {
		if isNull(doc) || (doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && isNull(doc.Content[0])) {
			return
		}
		s.docs++
		s.largest = max(s.largest, size)
		if id, ok := docResID(doc); ok {
			s.ids = append(s.ids, id)
		}
	})
	if err != nil {
		return yamlScan{}, err
	}
	s.expanded = expanded
	return s, nil
}

// literalSize is the size of a document without aliases, in the units of
// checkAliases.
func literalSize(n *yaml.Node) int64 {
	size := int64(nodeBytes + len(n.Value))
	for _, c := range n.Content {
		size += literalSize(c)
	}
	return size
}

// checkAliases refuses a document with a recursive alias (an alias to one
// of its own ancestors, which the decoder accepts but which expands without
// end) or whose aliases expand it to far more bytes than it holds. It
// returns the expanded size: scalar bytes plus nodeBytes per node, aliases
// expanded.
func checkAliases(doc *yaml.Node) (int64, error) {
	literal := literalSize(doc)
	limit := max(aliasFloor, aliasRatio*literal)
	memo := map[*yaml.Node]int64{}
	open := map[*yaml.Node]bool{}
	cyclic, over := false, false
	var expanded func(n *yaml.Node) int64
	expanded = func(n *yaml.Node) int64 {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return nodeBytes
			}
			n = n.Alias
		}
		if size, ok := memo[n]; ok {
			return size
		}
		if open[n] {
			cyclic = true
			return 0
		}
		open[n] = true
		size := int64(nodeBytes + len(n.Value))
		for _, c := range n.Content {
			size += expanded(c)
			if cyclic || size > limit {
				over = !cyclic
				break // enough to decide
			}
		}
		delete(open, n)
		memo[n] = size
		return size
	}
	size := expanded(doc)
	switch {
	case cyclic:
		return 0, fmt.Errorf("%w: recursive alias", ErrInvalidYAML)
	case over || size > limit:
		return 0, &LimitError{Err: ErrAliasBomb, Limit: limit, Option: "fixed: 10 times the document, at least 1 MiB",
			Detail: fmt.Sprintf("a document of %d bytes expands to more than %d", literal, limit)}
	}
	return size, nil
}

// docObjectID is the objectID of a document, if it has a kind and a name.
func docObjectID(doc *yaml.Node) (objectID, bool) {
	id, ok := docResID(doc)
	if !ok {
		return objectID{}, false
	}
	if id.Namespace == "default" && scalar(field(doc.Content[0], "metadata"), "namespace") == "" {
		id.Namespace = ""
	}
	return newObjectID(id.APIVersion, id.Kind, id.Namespace, id.Name), true
}

// docResID reads apiVersion, kind, metadata.namespace and metadata.name of
// a document, if it has a kind and a name.
func docResID(doc *yaml.Node) (resID, bool) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return resID{}, false
	}
	top := doc.Content[0]
	apiVersion := scalar(top, "apiVersion")
	kind := scalar(top, "kind")
	var namespace, name string
	if meta := field(top, "metadata"); meta != nil && meta.Kind == yaml.MappingNode {
		namespace = scalar(meta, "namespace")
		name = scalar(meta, "name")
	}
	if kind == "" || name == "" {
		return resID{}, false
	}
	if namespace == "" {
		namespace = "default"
	}
	return resID{APIVersion: apiVersion, Kind: kind, Namespace: namespace, Name: name}, true
}

func field(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if n := field(m, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}
