package results

// The report schemas, mirrored from their producers with only the fields
// RESULTS.md prints. They are copies rather than imports so that rendering
// the page needs neither the engine nor OpenCV; a producer that renames a
// field makes the golden test fail (its column goes blank or zero). Every
// report may carry a "command" field: the command line that wrote it.

// benchReport is docs/bench/engine.json (pipelines/bench.Report).
type benchReport struct {
	Command string `json:"command"`
	Date    string
	Machine string
	BLAS    string
	Torch   string
	Matmul  []struct {
		M, K, N     int
		Threads     int
		GraphGFLOP  float64 `json:"gorgonia_graph_gflops"`
		RawGFLOP    float64 `json:"openblas_sgemm_gflops"`
		TorchGFLOP  float64 `json:"torch_mm_gflops"`
		LinearGFLOP float64 `json:"nn_linear_graph_gflops"`
		GraphOfRaw  float64 `json:"graph_share_of_raw"`
	}
	Train []struct {
		Threads       int
		Params        int
		GoStepS       float64 `json:"go_step_s"`
		GoTokensS     float64 `json:"go_tokens_per_s"`
		TorchStepS    float64 `json:"torch_step_s"`
		TorchTokensS  float64 `json:"torch_tokens_per_s"`
		Ratio         float64 `json:"go_over_torch"`
		GoSettings    string  `json:"go_settings"`
		TorchSettings string  `json:"torch_settings"`
	}
	Tokenizer []struct {
		Threads  int
		Input    string  `json:"input"`
		Frames   int     `json:"frames"`
		Weights  string  `json:"weights"`
		GoFPS    float64 `json:"go_frames_per_s"`
		GoStages struct {
			Encode  float64 `json:"encode"`
			Latents float64 `json:"latents"`
			Decode  float64 `json:"decode"`
		} `json:"go_stages_s"`
		TorchFPS      float64 `json:"torch_frames_per_s"`
		Ratio         float64 `json:"go_over_torch"`
		GoSettings    string  `json:"go_settings"`
		TorchSettings string  `json:"torch_settings"`
	}
	Unified []struct {
		Threads int
		Mode    string `json:"mode"`
		Config  struct {
			Dim          int `json:"dim"`
			Layers       int `json:"layers"`
			Heads        int `json:"heads"`
			Experts      int `json:"experts"`
			TopK         int `json:"top_k"`
			Shared       int `json:"shared"`
			ExpertHidden int `json:"expert_hidden"`
		} `json:"config"`
		Vocab         int     `json:"vocab"`
		Batch         int     `json:"batch"`
		Seq           int     `json:"seq"`
		Mask          string  `json:"mask"`
		Params        int     `json:"params"`
		TorchParams   int     `json:"torch_params"`
		GoTokensS     float64 `json:"go_tokens_per_s"`
		TorchTokensS  float64 `json:"torch_tokens_per_s"`
		Ratio         float64 `json:"go_over_torch"`
		GoDropped     float64 `json:"go_dropped_share"`
		TorchDropped  float64 `json:"torch_dropped_share"`
		GoSettings    string  `json:"go_settings"`
		TorchSettings string  `json:"torch_settings"`
	}
	Updated map[string]string // part → date, for parts re-measured alone
}

// tokSet is pipelines/vtok.SetScores.
type tokSet struct {
	Clips      int       `json:"clips"`
	PSNR       float64   `json:"psnr_db"`
	SSIM       float64   `json:"ssim"`
	FgPSNR     float64   `json:"foreground_psnr_db"`
	PSNRScales []float64 `json:"psnr_db_after_scales"`
	PSNRFrames []float64 `json:"psnr_db_per_frame"`
	Identical  int       `json:"identical_clips"`
}

// tokReport is docs/eval/tokenizer*.json (pipelines/vtok.Report).
type tokReport struct {
	Command    string `json:"command"`
	Checkpoint string `json:"checkpoint"`
	Frames     int    `json:"frames"`
	Moving     tokSet `json:"moving_digits_test"`
	Real       tokSet `json:"real_clips_test"`
	Layout     *struct {
		Side     int     `json:"side"`
		Frames   int     `json:"frames"`
		Within   float64 `json:"share_within_3px"`
		MeanDist float64 `json:"mean_distance_px"`
	} `json:"layout"`
	Digits *struct {
		Digits      int     `json:"digits"`
		AccOriginal float64 `json:"accuracy_original"`
		AccRecon    float64 `json:"accuracy_reconstructed"`
		Reader      *struct {
			Views    int     `json:"views"`
			Train    int     `json:"train_images"`
			Steps    int     `json:"steps"`
			Accuracy float64 `json:"accuracy"`
		} `json:"reader"`
	} `json:"digit_check"`
	Ceiling *struct {
		Clips     int     `json:"clips"`
		Match     float64 `json:"match"`
		Digit     float64 `json:"digit"`
		Direction float64 `json:"direction"`
		MatchOne  float64 `json:"match_one_digit"`
		MatchTwo  float64 `json:"match_two_digit"`
	} `json:"ceiling"`
	Codebook struct {
		Size       int     `json:"size"`
		Used       int     `json:"used"`
		Perplexity float64 `json:"perplexity"`
	} `json:"codebook"`
	ScaleEntropy   []float64 `json:"entropy_nats_per_scale"`
	TokensPerClip  int       `json:"tokens_per_clip"`
	TokensPerFrame int       `json:"tokens_per_image"`
}

// codecReport is docs/eval/codec.json (pipelines/atok.Report).
type codecReport struct {
	Command   string  `json:"command"`
	Ckpt      string  `json:"ckpt"`
	FrameRate float64 `json:"frames_per_s"`
	Depths    int     `json:"depths"`
	Codes     int     `json:"codes"`
	Sets      []struct {
		Name    string  `json:"name"`
		Clips   int     `json:"clips"`
		Seconds float64 `json:"seconds"`
		Depths  []struct {
			Depths     int     `json:"depths"`
			BitrateBPS float64 `json:"bitrate_bps"`
			SISNR      float64 `json:"si_snr_db"`
			LogMel     float64 `json:"log_mel_distance"`
		} `json:"per_depths"`
		Bands []struct {
			LoHz   float64 `json:"lo_hz"`
			HiHz   float64 `json:"hi_hz"`
			GainDB float64 `json:"gain_db"`
		} `json:"band_gain_full_depth"`
		Louder int `json:"clips_louder_6db"`
	} `json:"sets"`
	Usage []struct {
		Depth      int     `json:"depth"`
		Used       int     `json:"codes_used"`
		Perplexity float64 `json:"perplexity"`
	} `json:"code_usage_test"`
	RTF             float64 `json:"encode_decode_rtf"`
	RTFCPU          float64 `json:"encode_decode_rtf_cpu"`
	RTFThreads      int     `json:"rtf_go_threads"`
	Intelligibility *struct {
		Classifier string  `json:"classifier"`
		TestClips  int     `json:"test_clips"`
		Original   float64 `json:"accuracy_original"`
		Resynth    float64 `json:"accuracy_resynthesised"`
		Kept       float64 `json:"kept"`
		Depths     int     `json:"depths"`
	} `json:"intelligibility"`
}

// interval is metrics.Interval.
type interval struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Level float64 `json:"level"`
	Reps  int     `json:"reps"`
}

// sanityReport is docs/eval/sanity.json (pipelines/eval.SanityReport).
type sanityReport struct {
	Command       string `json:"command"`
	Features      string `json:"features"`
	WeightsSHA256 string `json:"weights_sha256"`
	Split         string `json:"split"`
	Half          int    `json:"clips_per_half"`
	Points        []struct {
		Name    string   `json:"name"`
		Frechet interval `json:"frechet"`
		KVD     interval `json:"kvd"`
	} `json:"points"`
	Monotone bool `json:"monotone"`
}

// fvdReport is docs/eval/fvd*.json (pipelines/eval.FVDReport).
type fvdReport struct {
	Command       string   `json:"command"`
	Features      string   `json:"features"`
	WeightsSHA256 string   `json:"weights_sha256"`
	Real          string   `json:"real"`
	Fake          string   `json:"fake"`
	NReal         int      `json:"n_real"`
	NFake         int      `json:"n_fake"`
	Frames        int      `json:"frames"`
	Frechet       interval `json:"frechet"`
	KVD           interval `json:"kvd"`
	Versus        *struct {
		Fake        string   `json:"fake"`
		NFake       int      `json:"n_fake"`
		Frechet     interval `json:"frechet"`
		KVD         interval `json:"kvd"`
		FrechetDiff paired   `json:"frechet_minus_first"`
		KVDDiff     paired   `json:"kvd_minus_first"`
	} `json:"versus"`
}

// paired is a metrics.Paired difference.
type paired struct {
	interval
	Above float64 `json:"share_above_zero"`
}

// judgeReport is docs/eval/judge.json (pipelines/eval.JudgeReport).
type judgeReport struct {
	Command   string  `json:"command"`
	Split     string  `json:"split"`
	Clips     int     `json:"clips"`
	Match     float64 `json:"match"`
	Digit     float64 `json:"digit"`
	Direction float64 `json:"direction"`
	OneMatch  float64 `json:"one_match"`
	TwoMatch  float64 `json:"two_match"`
}

// classifierReport is docs/eval/video_classifier.json (pipelines/eval.VideoAccuracy).
type classifierReport struct {
	Command   string  `json:"command"`
	Split     string  `json:"split"`
	Clips     int     `json:"clips"`
	Digit     float64 `json:"digit"`
	Direction float64 `json:"direction"`
	OneDigit  float64 `json:"digit_one"`
	TwoDigit  float64 `json:"digit_two"`
	TwoClose  float64 `json:"two_close_share"`
	CloseDig  float64 `json:"digit_two_close"`
	ApartDig  float64 `json:"digit_two_apart"`
	Oracle    *struct {
		Glyphs   int     `json:"glyphs"`
		Misread  int     `json:"misread"`
		Digit    float64 `json:"digit"`
		OneDigit float64 `json:"digit_one"`
		TwoDigit float64 `json:"digit_two"`
	} `json:"glyph_oracle"`
}

// fidelity is metrics.Fidelity.
type fidelity struct {
	Clips     int     `json:"clips"`
	Match     float64 `json:"match"`
	Digit     float64 `json:"digit"`
	Direction float64 `json:"direction"`
	OneMatch  float64 `json:"one_match"`
	TwoMatch  float64 `json:"two_match"`
	// two-digit clips: directions right, digits moving the same way or not
	TwoClips         int     `json:"two_clips"`
	TwoSameClips     int     `json:"two_same_clips"`
	TwoSameDirection float64 `json:"two_same_direction"`
	TwoDiffDirection float64 `json:"two_different_direction"`
	// two-digit clips by how many digits move as prompted; of those
	// prompted apart, the share moving alike (absent from older reports)
	TwoDirsRight [3]float64 `json:"two_directions_right"`
	TwoDiffAlike float64    `json:"two_different_read_alike"`
	// per frame, one-digit clips read as prompted; mean speed px/frame
	OneByFrame []float64 `json:"one_digit_by_frame"`
	OneSpeed   float64   `json:"one_speed"`
}

// videoarReport is docs/eval/videoar*.json (pipelines/vgen.EvalReport).
type videoarReport struct {
	Command     string   `json:"command"`
	Split       string   `json:"split"`
	Generated   fidelity `json:"generated"`
	Ceiling     fidelity `json:"ceiling"`
	SecPerClip  float64  `json:"seconds_per_clip"`
	SecCodes    float64  `json:"seconds_codes_per_clip"`
	SecPixels   float64  `json:"seconds_pixels_per_clip"`
	SecSampling *struct {
		Prompt float64   `json:"prompt"`
		Scales []float64 `json:"scales"`
		Sample float64   `json:"sampling"`
		Inputs float64   `json:"inputs"`
	} `json:"seconds_sampling_parts"`
	CFG         float64     `json:"cfg"`
	Temperature float64     `json:"temperature"`
	TopK        int         `json:"top_k"`
	TopP        float64     `json:"top_p"`
	Continued   bool        `json:"continued"`
	NLL         [][]float64 `json:"nll_by_frame_scale"`
	Resumed     int         `json:"resumed_clips"`
}

// moeReport is docs/eval/unified_moe_vs_dense.json.
type moeReport struct {
	Command string         `json:"command"`
	What    string         `json:"what"`
	Setup   map[string]any `json:"setup"`
	Runs    []struct {
		moeSetup
		Seed         uint64  `json:"seed"`
		Params       int     `json:"params"`
		ActiveParams int     `json:"active_params"`
		Steps        int     `json:"steps"`
		TrainLoss    float64 `json:"train_loss_last50"`
		ValLoss      float64 `json:"val_loss"`
		ValPPL       float64 `json:"val_ppl"`
		LoadMax      float64 `json:"load_max_over_mean"`
		LoadMin      float64 `json:"load_min_over_mean"`
		Drop         float64 `json:"drop_fraction"`
		TrainSeconds float64 `json:"train_seconds"`
	} `json:"runs"`
	Summary []struct {
		moeSetup
		Seeds     int     `json:"seeds"`
		ValLoss   float64 `json:"val_loss_mean"`
		ValSD     float64 `json:"val_loss_sd"`
		VsDense   float64 `json:"minus_dense_mean"`
		VsDenseSE float64 `json:"minus_dense_se"`
		Lower     int     `json:"seeds_lower_than_dense"`
	} `json:"summary"`
}

// moeSetup is pipelines/moestudy.Setup.
type moeSetup struct {
	Dense    bool    `json:"dense"`
	Balance  string  `json:"balance"`
	BiasRate float64 `json:"bias_rate"`
}

// unifiedReport is docs/eval/unified*.json (pipelines/mm.EvalReport).
type unifiedReport struct {
	Model         string `json:"model"`
	Steps         string `json:"train_steps"`
	Split         string `json:"split"`
	Understanding map[string]struct {
		N        int     `json:"n"`
		Correct  int     `json:"correct"`
		Accuracy float64 `json:"accuracy"`
		Baseline float64 `json:"majority_baseline"`
		Parts    map[string]struct {
			N        int     `json:"n"`
			Correct  int     `json:"correct"`
			Accuracy float64 `json:"accuracy"`
		} `json:"parts"`
	} `json:"understanding"`
	Perplexity float64     `json:"text_perplexity"`
	PPLTokens  int         `json:"text_perplexity_tokens"`
	Elastic    []subResult `json:"elastic"`
	MoEvsDense *struct {
		Dense       string             `json:"dense_model"`
		MoE         map[string]float64 `json:"moe_ce"`
		DenseCE     map[string]float64 `json:"dense_ce"`
		MoEActive   int                `json:"moe_active_trunk_params"`
		DenseActive int                `json:"dense_active_trunk_params"`
		MoEWins     int                `json:"tasks_moe_lower"`
		DiffSE      map[string]float64 `json:"moe_minus_dense_se"`
		MoEClear    int                `json:"tasks_moe_lower_by_2se"`
		DenseClear  int                `json:"tasks_dense_lower_by_2se"`
	} `json:"moe_vs_dense"`
	Alone []struct {
		Steps string `json:"train_steps"`
		subResult
		Twins []subResult `json:"elastic_twins"`
	} `json:"alone"`
}

// subResult is pipelines/mm.SubResult.
type subResult struct {
	Sub          string  `json:"sub"`
	ActiveParams int     `json:"active_params"`
	MeanCE       float64 `json:"mean_ce"`
	DigitAcc     float64 `json:"digit_accuracy"`
	MsPerAnswer  float64 `json:"ms_per_answer"`
	Speedup      float64 `json:"speedup_vs_full"`
}
