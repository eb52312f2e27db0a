// hf_fixtures.js makes hf_written.json and hf_expected.json with the Hugging
// Face tokenizers library (the Rust implementation, through its Node
// binding), so the Go tests compare against the reference implementation:
//
//   npm install tokenizers@0.23.2   (in a scratch directory)
//   NODE_PATH=<scratch>/node_modules node hf_fixtures.js   (in this directory)
//
// hf_written.json is small_tokenizer.json's vocabulary and merges rebuilt and
// saved by the library (its own serialization); hf_expected.json holds the
// ids the library gives for a list of texts with each tokenizer file.
const { Tokenizer, BPE, byteLevelPreTokenizer } = require('tokenizers');
const fs = require('fs');

const texts = [
  'hello world!',
  'hello\n',
  'hell',
  'world',
  "The quick brown fox didn't care; they'll come again.",
  '  two  spaces,\ttabs\t\tand\n\nnewlines   ',
  'Café crème, naïve résumé: 3.14159 × 2 = 6.28318!',
  '日本語のテキスト。 €½ 2024',
  '"Never put off till tomorrow" -- Mark Twain',
  "'S 's ?'s I'M you'RE",
];

async function encodeAll(tok, filter) {
  const cases = [];
  for (const text of texts.filter(filter)) {
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    cases.push({ text, ids: enc.getIds() });
  }
  return cases;
}

async function main() {
  const small = JSON.parse(fs.readFileSync('small_tokenizer.json', 'utf8'));
  const merges = small.model.merges.map((m) => m.split(' '));
  const rebuilt = new Tokenizer(BPE.init(small.model.vocab, merges));
  rebuilt.setPreTokenizer(byteLevelPreTokenizer(false, true));
  rebuilt.addSpecialTokens(small.added_tokens.map((t) => t.content));
  rebuilt.save('hf_written.json', true);

  const tinyOK = (s) => /^[helowrd! \n]*$/.test(s); // its alphabet
  const out = {};
  out['tiny_tokenizer.json'] = await encodeAll(Tokenizer.fromFile('tiny_tokenizer.json'), tinyOK);
  for (const f of ['small_tokenizer.json', 'hf_written.json']) {
    out[f] = await encodeAll(Tokenizer.fromFile(f), () => true);
  }
  fs.writeFileSync('hf_expected.json', JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
