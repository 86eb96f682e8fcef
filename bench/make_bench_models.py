#!/usr/bin/python3
"""Builds the models only the benchmarks use, into bench/models.

    /usr/bin/python3 bench/make_bench_models.py [--out bench/models]

classifier_small_input: the example classifier (mobilenet_v3_small, random
weights, seed 0) behind a nearest-neighbour upsampling of a [3, 32, 32] input
to [3, 224, 224]. It computes what the classifier computes, from 12 KB a
request instead of 602 KB, so that a benchmark can tell what the scheduler
does apart from what receiving a large request costs on the same cores.

text_classifier: token ids of any length in, four logits out: an embedding,
two transformer encoder layers (d 64, 4 heads) that ignore tokens 0 (the
padding id), and a mean over the other tokens, random weights. Served twice
by bench/padding_bench.sh, with and without `pad_value: 0`, to measure what
padding requests of different lengths into one batch gains.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from make_examples import example_classifier, write  # noqa: E402


class SmallInputClassifier(torch.nn.Module):
    def __init__(self, classifier: torch.nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.nn.functional.interpolate(x, size=[224, 224], mode="nearest"))


class TextClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embedding = torch.nn.Embedding(1000, 64, padding_idx=0)
        layer = torch.nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
        # Nested tensors would drop the padding from the output's length.
        self.encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.classify = torch.nn.Linear(64, 4)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        real = tokens != 0
        encoded = self.encoder(self.embedding(tokens), src_key_padding_mask=~real)
        weights = real.unsqueeze(-1).to(torch.float32)
        return self.classify((encoded * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"),
                        help="model repository to write the benchmark models into")
    args = parser.parse_args()
    torch.set_num_threads(1)
    write(args.out, "classifier_small_input", SmallInputClassifier(example_classifier()), """
        # The example classifier behind an upsampling of a 32 x 32 input to
        # 224 x 224: its compute from 12 KB a request (bench/make_bench_models.py).
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: images, datatype: FP32, shape: [3, 32, 32]}
        outputs:
          - {name: logits, datatype: FP32, shape: [1000]}
        optimization: auto
        """)
    write(args.out, "text_classifier", TextClassifier(), """
        # Token ids of any length in, 4 logits out; 0 is the padding id
        # (bench/make_bench_models.py).
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: tokens, datatype: INT64, shape: [-1]}
        outputs:
          - {name: logits, datatype: FP32, shape: [4]}
        optimization: auto
        """)


if __name__ == "__main__":
    main()
