// Command oracle answers questions with Go's own implementations, so that tests can
// compare ysco's TypeScript ports against them on many inputs (differential tests).
//
// Each input line is a tab-separated request; each output line is the answer:
//
//	semver.compare A B     -1, 0 or 1 (golang.org/x/mod/semver.Compare)
//	semver.canonical V     canonical form, "" when invalid
//	module.ispseudo V      true or false
//	gover.compare A B      -1, 0 or 1 (go/version.Compare)
//	gover.valid V          true or false
//	module.checkpath P     "ok" or the error
//	module.escapepath P    escaped path, or "error: ..."
//	module.escapeversion V escaped version, or "error: ..."
//	note.verifier KEY      "ok NAME HASH" or "error: ..." (note.NewVerifier)
//	note.open KEY MSG64    "ok TEXT64 VERIFIED UNVERIFIED" or "error: ..." (note.Open, one verifier)
//	tlog.parsetree TEXT64  "N HASH" or "error: ..."
//	tlog.parserecord MSG64 "ID TEXT64 REST64" or "error: ..."
//	tlog.storedhashindex L N, tlog.splitstoredhashindex I ("L N"), tlog.storedhashcount N
//	tlog.tilepath H L N W, tlog.parsetilepath P ("H L N W" or "error: ..."), tlog.tileforindex H I
//	tlog.newtiles H OLD NEW  tile paths separated by spaces
//	tlog.treehash N        tree hash of the N records "record <i>\n"
//	tlog.plan N L K        paths of the tiles TileHashReader fetches to read h(L, K) of a tree of size N
//	tlog.readhash N L K [P]  h(L, K) read through tiles of the synthetic log of size N, authenticated
//	                       by TileHashReader, with every byte of tile P changed: "ok HASH" or "error: ..."
//	tlog.proverecord T N, tlog.provetree T N  proof hashes over the synthetic log, space separated
package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"go/version"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Split(in.Text(), "\t")
		arg := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		var answer string
		switch f[0] {
		case "semver.compare":
			answer = fmt.Sprint(semver.Compare(arg(1), arg(2)))
		case "semver.canonical":
			answer = semver.Canonical(arg(1))
		case "module.ispseudo":
			answer = fmt.Sprint(module.IsPseudoVersion(arg(1)))
		case "gover.compare":
			answer = fmt.Sprint(version.Compare(arg(1), arg(2)))
		case "gover.valid":
			answer = fmt.Sprint(version.IsValid(arg(1)))
		case "module.checkpath":
			answer = "ok"
			if err := module.CheckPath(arg(1)); err != nil {
				answer = err.Error()
			}
		case "module.escapepath":
			p, err := module.EscapePath(arg(1))
			answer = p
			if err != nil {
				answer = "error: " + err.Error()
			}
		case "module.escapeversion":
			v, err := module.EscapeVersion(arg(1))
			answer = v
			if err != nil {
				answer = "error: " + err.Error()
			}
		default:
			answer = sumdbAnswer(f[0], arg)
		}
		fmt.Fprintln(out, strings.ReplaceAll(answer, "\n", " "))
	}
}

func sumdbAnswer(req string, arg func(int) string) string {
	num := func(i int) int64 {
		n, err := strconv.ParseInt(arg(i), 10, 64)
		if err != nil {
			panic(err)
		}
		return n
	}
	b64 := func(i int) []byte {
		b, err := base64.StdEncoding.DecodeString(arg(i))
		if err != nil {
			panic(err)
		}
		return b
	}
	enc := base64.StdEncoding.EncodeToString
	switch req {
	case "note.verifier":
		v, err := note.NewVerifier(arg(1))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("ok %s %08x", v.Name(), v.KeyHash())
	case "note.open":
		v, err := note.NewVerifier(arg(1))
		if err != nil {
			return "error: " + err.Error()
		}
		n, err := note.Open(b64(2), note.VerifierList(v))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("ok %s %d %d", enc([]byte(n.Text)), len(n.Sigs), len(n.UnverifiedSigs))
	case "tlog.parsetree":
		t, err := tlog.ParseTree(b64(1))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%d %s", t.N, t.Hash)
	case "tlog.parserecord":
		id, text, rest, err := tlog.ParseRecord(b64(1))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%d %s %s", id, enc(text), enc(rest))
	case "tlog.storedhashindex":
		return fmt.Sprint(tlog.StoredHashIndex(int(num(1)), num(2)))
	case "tlog.splitstoredhashindex":
		l, n := tlog.SplitStoredHashIndex(num(1))
		return fmt.Sprintf("%d %d", l, n)
	case "tlog.storedhashcount":
		return fmt.Sprint(tlog.StoredHashCount(num(1)))
	case "tlog.tilepath":
		return tlog.Tile{H: int(num(1)), L: int(num(2)), N: num(3), W: int(num(4))}.Path()
	case "tlog.parsetilepath":
		t, err := tlog.ParseTilePath(arg(1))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%d %d %d %d", t.H, t.L, t.N, t.W)
	case "tlog.tileforindex":
		return tlog.TileForIndex(int(num(1)), num(2)).Path()
	case "tlog.newtiles":
		var paths []string
		for _, t := range tlog.NewTiles(int(num(1)), num(2), num(3)) {
			paths = append(paths, t.Path())
		}
		return strings.Join(paths, " ")
	case "tlog.treehash":
		h, err := tlog.TreeHash(num(1), synthetic(num(1)))
		if err != nil {
			return "error: " + err.Error()
		}
		return h.String()
	case "tlog.plan":
		r := &planReader{}
		thr := tlog.TileHashReader(tlog.Tree{N: num(1)}, r)
		thr.ReadHashes([]int64{tlog.StoredHashIndex(int(num(2)), num(3))})
		return strings.Join(r.paths, " ")
	case "tlog.readhash":
		n := num(1)
		hr := synthetic(n)
		th, err := tlog.TreeHash(n, hr)
		if err != nil {
			return "error: " + err.Error()
		}
		r := &dataReader{hr: hr, corrupt: arg(4)}
		hashes, err := tlog.TileHashReader(tlog.Tree{N: n, Hash: th}, r).ReadHashes([]int64{tlog.StoredHashIndex(int(num(2)), num(3))})
		if err != nil {
			return "error: " + err.Error()
		}
		return "ok " + hashes[0].String()
	case "tlog.proverecord":
		p, err := tlog.ProveRecord(num(1), num(2), synthetic(num(1)))
		if err != nil {
			return "error: " + err.Error()
		}
		return joinHashes(p)
	case "tlog.provetree":
		p, err := tlog.ProveTree(num(1), num(2), synthetic(num(1)))
		if err != nil {
			return "error: " + err.Error()
		}
		return joinHashes(p)
	}
	return "unknown request " + req
}

func joinHashes(hs []tlog.Hash) string {
	var s []string
	for _, h := range hs {
		s = append(s, h.String())
	}
	return strings.Join(s, " ")
}

// stored holds the stored hashes of the synthetic log of records "record <i>\n", grown on demand.
var (
	stored  []tlog.Hash
	storedN int64
)

func synthetic(n int64) tlog.HashReader {
	hr := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x >= int64(len(stored)) {
				return nil, errors.New("hash not stored")
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for ; storedN < n; storedN++ {
		hs, err := tlog.StoredHashes(storedN, []byte(fmt.Sprintf("record %d\n", storedN)), hr)
		if err != nil {
			panic(err)
		}
		stored = append(stored, hs...)
	}
	return hr
}

// planReader records the tiles TileHashReader asks for and fails.
type planReader struct{ paths []string }

func (r *planReader) Height() int { return 8 }
func (r *planReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	for _, t := range tiles {
		r.paths = append(r.paths, t.Path())
	}
	return nil, errors.New("planned")
}
func (r *planReader) SaveTiles([]tlog.Tile, [][]byte) {}

// dataReader serves the synthetic log's tiles, one of them corrupted.
type dataReader struct {
	hr      tlog.HashReader
	corrupt string
}

func (r *dataReader) Height() int { return 8 }
func (r *dataReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := tlog.ReadTileData(t, r.hr)
		if err != nil {
			return nil, err
		}
		if t.Path() == r.corrupt {
			for j := range data {
				data[j] ^= 1
			}
		}
		out[i] = data
	}
	return out, nil
}
func (r *dataReader) SaveTiles([]tlog.Tile, [][]byte) {}
