#!/usr/bin/python3
"""Small real files that seed the WAV/MP3 fuzz targets and the MP3 test.

Run from the repository root with Debian's Python (scipy) and the Debian
packages espeak-ng and lame installed:
    /usr/bin/python3 audio/testdata/make_seeds.py
seed.wav:  espeak-ng saying "seven" (en-us), resampled with scipy to 8 kHz,
           16-bit mono PCM.
seed16k.wav, seed.mp3: the same at 16 kHz, and its MP3 made by
           `lame --quiet --nohist -m m -b 48` (MPEG-2 layer III with a LAME tag).
Generated speech; no third-party recording is included.
"""
import os
import subprocess
import tempfile

import numpy as np
import scipy.io.wavfile as wavfile
import scipy.signal as signal

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", raw, "seven"], check=True)
        rate, x = wavfile.read(raw)  # 22050 Hz int16
        x = x.astype(np.float64)
        nz = np.nonzero(np.abs(x) > 100)[0]
        x = x[max(nz[0] - 400, 0): nz[-1] + 400]  # trim the silence
        for out_rate, name in ((8000, "seed.wav"), (16000, "seed16k.wav")):
            g = np.gcd(rate, out_rate)
            y = signal.resample_poly(x, out_rate // g, rate // g)
            y = np.clip(np.round(y), -32768, 32767).astype(np.int16)
            wavfile.write(os.path.join(HERE, name), out_rate, y)
        subprocess.run(["lame", "--quiet", "--nohist", "-m", "m", "-b", "48",
                        os.path.join(HERE, "seed16k.wav"), os.path.join(HERE, "seed.mp3")],
                       check=True)
    for name in ("seed.wav", "seed16k.wav", "seed.mp3"):
        print(name, os.path.getsize(os.path.join(HERE, name)), "bytes")


if __name__ == "__main__":
    main()
