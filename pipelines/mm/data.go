package mm

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/omniar/omniar/datasets/digits"
	"github.com/omniar/omniar/datasets/qa"
	"github.com/omniar/omniar/datasets/text"
	"github.com/omniar/omniar/omni"
	"github.com/omniar/omniar/tokenizers"
	"github.com/omniar/omniar/tokenizers/bpe"
)

// Item is one example with where it came from.
type Item struct {
	Ex     omni.Example
	QATask string // the pair's task (digit, direction, digits, spoken, word, category); "" for others
	Answer string // the answer as text
	Ref    string
}

// Data are the examples of one split, by task, and the split's fortunes as
// one token stream for the language model.
type Data struct {
	Split  string
	ByTask map[string][]Item
	LM     []int
	// ClipDigits are image questions about the first frame of each
	// one-digit clip: the split's digits anywhere on the canvas, where the
	// digit images centre them (a stage's clip_images share of image_qa
	// draws from them).
	ClipDigits []Item
	// ClipPairs are the same about the first frame of each two-digit clip,
	// asked which digits it shows: two digits in one picture, which the
	// digit images never have (a stage's pair_images share).
	ClipPairs []Item
	// DigitViews are the digit-image questions of the train split asked
	// about augmented views of their digits (LoadDigitViews; a stage's
	// view_images share of image_qa draws from them).
	DigitViews []Item
	// SpeechViews are the audio questions of the train split asked about
	// augmented views of their recordings (LoadSpeechViews; a stage's
	// audio_views share of audio_qa draws from them).
	SpeechViews []Item
	// PairViews are "which digits" questions about the first frames of
	// fresh two-digit train clips (LoadPairViews; a stage's pair_views
	// share of image_qa draws from them).
	PairViews []Item
}

// LoadPairViews adds the questions about n pair views (PairClips), read
// from their token file; their answers come from the clips' metadata.
func (d *Data) LoadPairViews(dataDir, tokDir string, n int, enc func(string) ([]int, error)) error {
	path := filepath.Join(tokDir, fmt.Sprintf(filePairViews, n))
	t, err := OpenTokens(path)
	if err != nil {
		return err
	}
	set, err := digits.Load(dataDir)
	if err != nil {
		return err
	}
	ph := qa.Phrasings["digits"]
	for i, c := range PairClips(set, n) {
		vis, ok := t.Codes(PairViewRef(c))
		if !ok {
			return fmt.Errorf("%s: no %s: the file holds other pictures", path, PairViewRef(c))
		}
		answer := qa.DigitsAnswer(c)
		q, err := enc(ph[i%len(ph)])
		if err != nil {
			return err
		}
		a, err := enc(answer)
		if err != nil {
			return err
		}
		ex := omni.Example{Task: omni.TaskImageQA, Question: q, Answer: a, Visual: vis}
		d.PairViews = append(d.PairViews, Item{Ex: ex, QATask: "digits", Answer: answer, Ref: PairViewRef(c)})
	}
	return nil
}

// LoadSpeechViews adds the audio questions of the split asked of the
// views of their recordings: the token file that holds views of each.
func (d *Data) LoadSpeechViews(tokDir string, views int) error {
	path := filepath.Join(tokDir, fmt.Sprintf(fileSpeechViews, views))
	t, err := OpenTokens(path)
	if err != nil {
		return err
	}
	for _, it := range d.ByTask[omni.TaskAudioQA] {
		for v := range views {
			ref := SpeechViewRef(it.Ref, v)
			a, ok := t.Codes(ref)
			if !ok {
				return fmt.Errorf("%s: no view %d of %s: the views are of the train split", path, v, it.Ref)
			}
			view := it
			view.Ex.Audio, view.Ref = AudioCodes(a, len(it.Ex.Audio), len(it.Ex.Audio[0])), ref
			d.SpeechViews = append(d.SpeechViews, view)
		}
	}
	if len(d.SpeechViews) == 0 {
		return fmt.Errorf("%s split: no audio questions to ask about views", d.Split)
	}
	return nil
}

// LoadDigitViews adds the image questions about the split's digits asked
// of their views: the token file that holds views augmented views of each.
func (d *Data) LoadDigitViews(tokDir string, views int) error {
	path := filepath.Join(tokDir, fmt.Sprintf(fileViews, views))
	t, err := OpenTokens(path)
	if err != nil {
		return err
	}
	for _, it := range d.ByTask[omni.TaskImageQA] {
		id, ok := strings.CutPrefix(it.Ref, "digits:")
		if !ok || it.QATask != "digit" {
			continue
		}
		n, err := strconv.Atoi(id)
		if err != nil {
			return fmt.Errorf("qa pair %s: %w", it.Ref, err)
		}
		for v := range views {
			vis, ok := t.Codes(ViewRef(n, v))
			if !ok {
				return fmt.Errorf("%s: no view %d of digit %d: the views are of the train split", path, v, n)
			}
			view := it
			view.Ex.Visual, view.Ref = vis, ViewRef(n, v)
			d.DigitViews = append(d.DigitViews, view)
		}
	}
	if len(d.DigitViews) == 0 {
		return fmt.Errorf("%s split: no digit-image questions to ask about views", d.Split)
	}
	return nil
}

// LoadData builds the examples of a split from the prepared data, the
// token files in tokDir and the text tokenizer. Pairs whose item was not
// tokenized (Moving-digits clips beyond the tokenized ones) are left out.
func LoadData(dataDir, tokDir, split string, cfg omni.Config, tok *bpe.Tokenizer) (*Data, error) {
	d := &Data{Split: split, ByTask: map[string][]Item{}}
	imgs, err := OpenTokens(filepath.Join(tokDir, fileDigits))
	if err != nil {
		return nil, err
	}
	clips, err := OpenTokens(filepath.Join(tokDir, fmt.Sprintf(fileVideo, split)))
	if err != nil {
		return nil, err
	}
	auds, err := OpenTokens(filepath.Join(tokDir, fmt.Sprintf(fileAudio, split)))
	if err != nil {
		return nil, err
	}
	if clips.Store.Shape().T < cfg.VideoFrames || auds.Store.Shape().T < cfg.AudioFrames || auds.Store.Shape().W < cfg.AudioDepths {
		return nil, fmt.Errorf("token files in %s do not match the model (video %d frames, audio %d×%d)", tokDir, cfg.VideoFrames, cfg.AudioFrames, cfg.AudioDepths)
	}
	quotes, err := text.Load(dataDir, split)
	if err != nil {
		return nil, err
	}
	pairs, err := qa.Load(dataDir, split)
	if err != nil {
		return nil, err
	}
	enc := func(s string) ([]int, error) { return tok.EncodeString(s) }
	for _, p := range pairs {
		q, err := enc(p.Question)
		if err != nil {
			return nil, err
		}
		a, err := enc(p.Answer)
		if err != nil {
			return nil, err
		}
		if len(q) > cfg.Question || len(a) > cfg.Answer {
			continue // the template holds shorter questions and answers
		}
		it := Item{Ex: omni.Example{Question: q, Answer: a}, QATask: p.Task, Answer: p.Answer, Ref: p.Ref}
		var ok bool
		switch p.Modality {
		case "image":
			it.Ex.Task = omni.TaskImageQA
			it.Ex.Visual, ok = imgs.Codes(p.Ref)
		case "video":
			it.Ex.Task = omni.TaskVideoQA
			var v [][]int
			if v, ok = clips.Codes(p.Ref); ok {
				it.Ex.Visual = v[:cfg.VideoFrames]
			}
		case "audio":
			it.Ex.Task = omni.TaskAudioQA
			var a [][]int
			if a, ok = auds.Codes(p.Ref); ok {
				a = a[:cfg.AudioFrames]
				it.Ex.Audio = a
				for f := range a {
					a[f] = a[f][:cfg.AudioDepths]
				}
			}
		case "text":
			it.Ex.Task = omni.TaskTextQA
			i, err := strconv.Atoi(p.Ref[strings.LastIndex(p.Ref, ":")+1:])
			if err != nil || i < 0 || i >= len(quotes) {
				return nil, fmt.Errorf("qa pair %s: no such quotation", p.Ref)
			}
			if it.Ex.Text, err = enc(quotes[i].Text); err != nil {
				return nil, err
			}
			ok = true
		}
		if !ok {
			continue
		}
		d.ByTask[it.Ex.Task] = append(d.ByTask[it.Ex.Task], it)
		if p.Task == "digits" {
			if err := d.addFirstFrame(it, enc); err != nil {
				return nil, err
			}
		}
	}
	set, err := digits.Load(dataDir)
	if err != nil {
		return nil, err
	}
	for _, id := range set.IDs(split) {
		ref := fmt.Sprintf("digits:%d", id)
		v, ok := imgs.Codes(ref)
		if !ok {
			continue
		}
		c, err := enc(set.Digits[id].Caption)
		if err != nil {
			return nil, err
		}
		d.ByTask[omni.TaskImageGen] = append(d.ByTask[omni.TaskImageGen], Item{Ex: omni.Example{Task: omni.TaskImageGen, Text: c, Visual: v}, Ref: ref})
	}
	for _, q := range quotes {
		ids, err := enc(q.Text)
		if err != nil {
			return nil, err
		}
		d.LM = append(append(d.LM, ids...), tokenizers.EOS)
	}
	return d, nil
}

// addFirstFrame asks about the first frame of the clip of a "digits" question
// as an image: which digit for one digit (ClipDigits), which digits for two
// (ClipPairs).
func (d *Data) addFirstFrame(it Item, enc func(string) ([]int, error)) error {
	task, list := "digit", &d.ClipDigits
	if strings.Contains(it.Answer, " and ") {
		task, list = "digits", &d.ClipPairs
	}
	ph := qa.Phrasings[task]
	q, err := enc(ph[len(*list)%len(ph)])
	if err != nil {
		return err
	}
	ex := omni.Example{Task: omni.TaskImageQA, Question: q, Answer: it.Ex.Answer, Visual: it.Ex.Visual[:1]}
	*list = append(*list, Item{Ex: ex, QATask: task, Answer: it.Answer, Ref: it.Ref})
	return nil
}

// Sample draws n examples of a task.
func (d *Data) Sample(task string, n, lmSeq int, rng *rand.Rand) ([]omni.Example, error) {
	out := make([]omni.Example, n)
	if task == omni.TaskLM {
		if len(d.LM) <= lmSeq {
			return nil, fmt.Errorf("%s split: %d text tokens, need more than %d", d.Split, len(d.LM), lmSeq)
		}
		for i := range out {
			o := rng.IntN(len(d.LM) - lmSeq)
			out[i] = omni.Example{Task: task, Text: d.LM[o : o+lmSeq]}
		}
		return out, nil
	}
	items := d.ByTask[task]
	if len(items) == 0 {
		return nil, fmt.Errorf("%s split has no %s examples", d.Split, task)
	}
	for i := range out {
		out[i] = items[rng.IntN(len(items))].Ex
	}
	return out, nil
}
