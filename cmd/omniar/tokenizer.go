package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
	"github.com/omniar/omniar/tokenizers/textcorpus"
)

// tokenizerFlags are the flags of the `tokenizer` subcommands; a modality
// reads the ones it needs.
type tokenizerFlags struct {
	modality  string
	data      string // train: prepared data directory
	out       string // train: file to write
	vocab     int    // train: vocabulary size (text)
	in        string // encode: input file
	tokenizer string // encode: trained tokenizer file
	stats     bool   // encode: print compression and speed to stderr
	ckpt      string // encode, decode: tokenizer checkpoint (default: the shipped one)
	audio     audioFlags
	visual    visualFlags
}

// tokenizerModality is what one --modality value plugs into `omniar
// tokenizer`: a function per subcommand, nil where it has none.
type tokenizerModality struct {
	train  func(cmd *cobra.Command, f *tokenizerFlags) error
	encode func(cmd *cobra.Command, f *tokenizerFlags) error
	decode func(cmd *cobra.Command, f *tokenizerFlags) error
}

// tokenizerFlagHooks let a modality add its own flags to a subcommand
// (verb is train, encode or decode).
var tokenizerFlagHooks []func(verb string, fl *pflag.FlagSet, f *tokenizerFlags)

func addModalityFlags(verb string, fl *pflag.FlagSet, f *tokenizerFlags) {
	for _, add := range tokenizerFlagHooks {
		add(verb, fl, f)
	}
}

// run returns the function of subcommand verb, nil if there is none.
func (m tokenizerModality) run(verb string) func(*cobra.Command, *tokenizerFlags) error {
	switch verb {
	case "train":
		return m.train
	case "encode":
		return m.encode
	case "decode":
		return m.decode
	}
	return nil
}

// tokenizerModalities maps --modality values to their implementations; the
// image and audio tokenizers add themselves here.
var tokenizerModalities = map[string]tokenizerModality{
	"text": {train: trainTextTokenizer, encode: encodeText},
}

func newTokenizerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokenizer",
		Short: "Train tokenizers and encode files with them",
	}
	cmd.AddCommand(newTokenizerTrainCmd(), newTokenizerEncodeCmd(), newTokenizerDecodeCmd())
	return cmd
}

// modalityRunner returns the RunE of subcommand verb: it dispatches on
// --modality.
func modalityRunner(verb string, f *tokenizerFlags) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if f.modality == "" {
			return usageErrorf("--modality is required: one of %s", strings.Join(modalityNames(), ", "))
		}
		m, ok := tokenizerModalities[f.modality]
		if !ok {
			return usageErrorf("--modality %q: want one of %s", f.modality, strings.Join(modalityNames(), ", "))
		}
		run := m.run(verb)
		if run == nil {
			return usageErrorf("tokenizer %s does not support --modality %s", verb, f.modality)
		}
		return run(cmd, f)
	}
}

func modalityNames() []string {
	names := make([]string, 0, len(tokenizerModalities))
	for n := range tokenizerModalities {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func newTokenizerTrainCmd() *cobra.Command {
	f := &tokenizerFlags{}
	cmd := &cobra.Command{
		Use:   "train --modality text [--vocab N] [--out FILE]",
		Short: "Train a tokenizer on the prepared data",
		Long: `train fits a tokenizer on the training split of the prepared data (--data).

text: a byte-level BPE on the quotations, the captions of digits, clips and
spoken words, and the questions and answers, with the unified special tokens
at ids 0..31. It writes a Hugging Face tokenizer.json and prints the training
time, the compression (bytes/token) on the held-out test quotations and the
encoding throughput.`,
		Example: `  omniar tokenizer train --modality text --vocab 4096 --out assets/tokenizer.json`,
		Args:    cobra.NoArgs,
		RunE:    modalityRunner("train", f),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.modality, "modality", "", "what to tokenize: "+strings.Join(modalityNames(), ", "))
	fl.StringVar(&f.data, "data", defaultCache("data"), "prepared data directory (make data)")
	fl.StringVar(&f.out, "out", tokenizers.DefaultTextPath, "tokenizer file to write")
	fl.IntVar(&f.vocab, "vocab", bpe.DefaultVocabSize, "text: vocabulary size, special and byte tokens included")
	addModalityFlags("train", fl, f)
	return cmd
}

func newTokenizerEncodeCmd() *cobra.Command {
	f := &tokenizerFlags{}
	cmd := &cobra.Command{
		Use:   "encode --modality text --in FILE",
		Short: "Encode a file and print its token ids",
		Long: `encode tokenizes --in with a trained tokenizer.

text: the file's bytes (any encoding) become BPE token ids, printed on one
line separated by spaces; --stats adds bytes, tokens and speed on stderr.`,
		Example: `  omniar tokenizer encode --modality text --in notes.txt`,
		Args:    cobra.NoArgs,
		RunE:    modalityRunner("encode", f),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.modality, "modality", "", "what to tokenize: "+strings.Join(modalityNames(), ", "))
	fl.StringVar(&f.in, "in", "", "input file")
	fl.StringVar(&f.tokenizer, "tokenizer", tokenizers.DefaultTextPath, "text: tokenizer.json to use")
	fl.BoolVar(&f.stats, "stats", false, "print bytes, tokens and encoding speed to stderr")
	fl.StringVar(&f.out, "out", "", "token file to write (.tok; media modalities)")
	fl.StringVar(&f.ckpt, "ckpt", "", "tokenizer checkpoint (media modalities; default: the shipped one)")
	addModalityFlags("encode", fl, f)
	return cmd
}

func newTokenizerDecodeCmd() *cobra.Command {
	f := &tokenizerFlags{}
	cmd := &cobra.Command{
		Use:   "decode --modality MODALITY --in FILE.tok --out FILE",
		Short: "Decode a .tok file back into media",
		Long: `decode turns the tokens of a .tok file (written by encode) back into media
with the tokenizer that made them; a file made by another tokenizer (another
codebook) is refused.

audio: writes a 16 kHz mono 16-bit WAV.`,
		Example: `  omniar tokenizer decode --modality audio --in speech.tok --out speech.wav`,
		Args:    cobra.NoArgs,
		RunE:    modalityRunner("decode", f),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.modality, "modality", "", "what the tokens are: "+strings.Join(modalityNames(), ", "))
	fl.StringVar(&f.in, "in", "", "token file (.tok)")
	fl.StringVar(&f.out, "out", "", "media file to write")
	fl.StringVar(&f.ckpt, "ckpt", "", "tokenizer checkpoint (default: the shipped one)")
	addModalityFlags("decode", fl, f)
	return cmd
}

// trainTextTokenizer trains the BPE, saves it and measures it.
func trainTextTokenizer(cmd *cobra.Command, f *tokenizerFlags) error {
	if min := tokenizers.NumSpecial + 256; f.vocab < min {
		return usageErrorf("--vocab %d: want at least %d (%d special + 256 byte tokens)", f.vocab, min, tokenizers.NumSpecial)
	}
	w := cmd.OutOrStdout()
	start := time.Now()
	srcs, err := textcorpus.Training(f.data)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		fmt.Fprintf(w, "%-16s %7d documents %9d bytes\n", s.Name, len(s.Docs), s.Bytes())
	}
	loaded := time.Since(start)
	trainStart, trainCPU := time.Now(), textcorpus.CPUTime()
	tok, err := tokenizers.TrainText(textcorpus.Docs(srcs), f.vocab)
	if err != nil {
		return err
	}
	trained, trainedCPU := time.Since(trainStart), textcorpus.CPUTime()-trainCPU
	if err := saveText(tok, f.out); err != nil {
		return err
	}
	fmt.Fprintf(w, "trained %d ids (%d merges) in %.2fs, %.2f CPU s (corpus read in %.2fs; %.2fs in all)\n",
		tok.VocabSize(), tok.NumMerges(), trained.Seconds(), trainedCPU.Seconds(), loaded.Seconds(), time.Since(start).Seconds())
	return reportText(cmd, f)
}

// saveText writes tok to path, creating the directory, and prints its size.
func saveText(tok *bpe.Tokenizer, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save tokenizer: %w", err)
	}
	return tok.Save(path)
}

// reportText reloads the saved tokenizer and measures it on the held-out
// quotations.
func reportText(cmd *cobra.Command, f *tokenizerFlags) error {
	w := cmd.OutOrStdout()
	tok, err := tokenizers.LoadText(f.out)
	if err != nil {
		return err
	}
	info, err := os.Stat(f.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%d bytes)\n", f.out, info.Size())
	test, err := textcorpus.Fortunes(f.data, "test")
	if err != nil {
		return err
	}
	st, err := textcorpus.Measure(tok, test.Docs, time.Second)
	if err != nil {
		return fmt.Errorf("measure on %s: %w", test.Name, err)
	}
	fmt.Fprintf(w, "%s: %d bytes → %d tokens, %.3f bytes/token; round trip exact\n",
		test.Name, st.Bytes, st.Tokens, st.BytesPerToken())
	fmt.Fprintf(w, "encoding (1 goroutine): %.2f MB/s cold cache, %.2f MB/s warm; per CPU second %.2f and %.2f MB\n",
		st.ColdMBps(), st.WarmMBps(), st.ColdCPUMBps(), st.WarmCPUMBps())
	return nil
}

// encodeText prints the token ids of a file.
func encodeText(cmd *cobra.Command, f *tokenizerFlags) error {
	if f.in == "" {
		return usageErrorf("--in is required")
	}
	tok, err := tokenizers.LoadText(f.tokenizer)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(f.in)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	start := time.Now()
	ids, err := tok.Encode(data)
	if err != nil {
		return fmt.Errorf("encode %s: %w", f.in, err)
	}
	took := time.Since(start)
	out := make([]byte, 0, 5*len(ids)+1)
	for i, id := range ids {
		if i > 0 {
			out = append(out, ' ')
		}
		out = strconv.AppendInt(out, int64(id), 10)
	}
	if _, err := cmd.OutOrStdout().Write(append(out, '\n')); err != nil {
		return err
	}
	if f.stats {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d bytes → %d tokens, %.3f bytes/token, %.2f MB/s\n",
			f.in, len(data), len(ids), float64(len(data))/float64(max(len(ids), 1)), float64(len(data))/1e6/max(took.Seconds(), 1e-9))
	}
	return nil
}
