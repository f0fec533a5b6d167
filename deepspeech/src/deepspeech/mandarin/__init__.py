"""Deep Speech 2 in Mandarin (DS2 §3.9, §6.2): character vocabulary, AISHELL-1 data, character-LM decoding, demo.

The paper's Mandarin model emits Chinese characters directly (about 6,000 plus the Roman alphabet) and is scored
by character error rate; no word segmentation or pinyin is involved. The same acoustic model, CTC loss, trainer
and beam search as the English model are used; only the output alphabet, the text normalisation, the LM unit
(characters, not words) and the metric change.
"""
