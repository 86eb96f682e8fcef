#!/usr/bin/python3
"""Builds edgeserve's example and test models as TorchScript files.

Run with Debian's interpreter (/usr/bin/python3), which has python3-torch and
python3-torchvision. Every model is made from code and fixed seeds, so the same
script gives the same files on every box; nothing is downloaded.

    /usr/bin/python3 models/make_examples.py [--out models] [--test-models DIR]
"""
import argparse
import os
import textwrap
from typing import List, Tuple

import torch
import torchvision


class Identity(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


class AddSub(torch.nn.Module):
    """Two inputs, two outputs of different datatypes, returned as a tuple."""

    def forward(self, a: torch.Tensor, b: torch.Tensor):
        return (a + b).to(torch.int32), (a - b).to(torch.float32)


class Simple(torch.nn.Module):
    """Triton's quickstart model 'simple', so Triton's own example clients run
    unchanged: the sum and the difference of two INT32 vectors."""

    def forward(self, a: torch.Tensor, b: torch.Tensor):
        return a + b, a - b


class DictOutputs(torch.nn.Module):
    """Returns a dict, so outputs are matched to the config by name."""

    def forward(self, x: torch.Tensor):
        return {"doubled": x * 2.0, "summed": x.sum(dim=1, keepdim=True)}


class ListOutputs(torch.nn.Module):
    """Returns a list, so outputs are matched to the config by position."""

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x + 1.0, x * 3.0]


class Failing(torch.nn.Module):
    """Raises in forward when any input element is negative."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise RuntimeError("negative input rejected by the model")
        return x + 1.0


class Spin(torch.nn.Module):
    """Runs as many rounds as its input's first element says: a model that
    does not return for as long as a test needs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ones(64, 64)
        for _ in range(int(x[0].item())):
            y = torch.tanh(y @ y / 64.0)
        return y.sum().reshape(1)


class Slow(torch.nn.Module):
    """Burns a known amount of compute, for shutdown and concurrency tests."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for _ in range(200):
            y = torch.tanh(y @ torch.ones(64, 64) / 64.0)
        return y


class SlowDoubler(torch.nn.Module):
    """Doubles each row after burning compute on the whole batch, so that
    requests batched together still tell their rows apart."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for _ in range(50):
            y = torch.tanh(y @ torch.ones(64, 64) / 64.0)
        return x * 2.0 + y * 0.0


class PaddedSum(torch.nn.Module):
    """Sums each row and says how long the rows it was given were, so that a
    test sees both its own answer and whether its row was padded; burns
    compute on the whole batch so that requests queue up behind it."""

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        y = torch.ones(x.shape[0], 64)
        for _ in range(50):
            y = torch.tanh(y @ torch.ones(64, 64) / 64.0)
        sums = x.sum(dim=1, keepdim=True) + y[:, :1] * 0.0
        lengths = torch.full((x.shape[0], 1), float(x.shape[1]))
        return sums, lengths


def write(root, name, module, config, version="1"):
    model_dir = os.path.join(root, name)
    os.makedirs(os.path.join(model_dir, version), exist_ok=True)
    scripted = torch.jit.script(module.eval())
    scripted.save(os.path.join(model_dir, version, "model.pt"))
    with open(os.path.join(model_dir, "config.yaml"), "w") as f:
        f.write(textwrap.dedent(config).lstrip())
    print(f"wrote {model_dir}/{version}/model.pt")


def example_classifier():
    """mobilenet_v3_small with random weights from seed 0: the example
    classifier, and the compute of the benchmarks' small-input copy."""
    torch.manual_seed(0)
    return torchvision.models.mobilenet_v3_small(num_classes=1000)


def make_examples(root):
    write(root, "identity", Identity(), """
        # Returns its input: measures what the protocol costs around a model.
        platform: torchscript
        max_batch_size: 64
        inputs:
          - {name: INPUT0, datatype: FP32, shape: [16]}
        outputs:
          - {name: OUTPUT0, datatype: FP32, shape: [16]}
        optimization: none
        """)
    write(root, "add_sub", AddSub(), """
        # OUTPUT0 = INPUT0 + INPUT1 (INT32), OUTPUT1 = INPUT0 - INPUT1 (FP32).
        platform: torchscript
        max_batch_size: 0
        inputs:
          - {name: INPUT0, datatype: INT32, shape: [-1]}
          - {name: INPUT1, datatype: INT32, shape: [-1]}
        outputs:
          - {name: OUTPUT0, datatype: INT32, shape: [-1]}
          - {name: OUTPUT1, datatype: FP32, shape: [-1]}
        """)
    write(root, "simple", Simple(), """
        # Triton's quickstart model: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1.
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: INPUT0, datatype: INT32, shape: [16]}
          - {name: INPUT1, datatype: INT32, shape: [16]}
        outputs:
          - {name: OUTPUT0, datatype: INT32, shape: [16]}
          - {name: OUTPUT1, datatype: INT32, shape: [16]}
        """)
    write(root, "classifier", example_classifier(), """
        # mobilenet_v3_small from torchvision with random weights (seed 0).
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: images, datatype: FP32, shape: [3, 224, 224]}
        outputs:
          - {name: logits, datatype: FP32, shape: [1000]}
        optimization: auto
        """)


def make_mlp():
    """A 64 -> 512 -> 512 -> 10 perceptron trained to tell ten clusters apart.

    The clusters are generated (seed 0), so accuracy means something without a
    download; the layers are wide enough that int8 matrix products matter.
    """
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(10, 64, generator=generator) * 0.3
    def batch(size):
        labels = torch.randint(0, 10, (size,), generator=generator)
        return centres[labels] + torch.randn(size, 64, generator=generator), labels
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(
        torch.nn.Linear(64, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10))
    optimiser = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    for _ in range(60):
        inputs, labels = batch(128)
        loss = torch.nn.functional.cross_entropy(mlp(inputs), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    mlp.eval()
    inputs, labels = batch(2000)
    with torch.no_grad():
        accuracy = (mlp(inputs).argmax(dim=1) == labels).float().mean().item()
    return mlp, accuracy


def make_quantised_examples(root):
    mlp, accuracy = make_mlp()
    mlp_config = """
        # {what}: 64 -> 512 -> 512 -> 10, trained on generated clusters
        # (seed 0) to {accuracy:.1%} accuracy in fp32.
        platform: torchscript
        max_batch_size: 64
        inputs:
          - {{name: features, datatype: FP32, shape: [64]}}
        outputs:
          - {{name: logits, datatype: FP32, shape: [10]}}
        instance_groups: [{{kind: CPU}}]
        """
    write(root, "mlp", mlp, mlp_config.format(what="A perceptron in fp32", accuracy=accuracy))
    # Dynamic quantisation: int8 weights, activations quantised per batch.
    # Its kernels exist on the CPU only, hence the CPU group.
    quantised = torch.quantization.quantize_dynamic(mlp, {torch.nn.Linear}, dtype=torch.qint8)
    write(root, "mlp_int8", quantised,
          mlp_config.format(what="The same perceptron, int8 by dynamic quantisation", accuracy=accuracy))


def make_test_models(root):
    """Models that only the test suite uses: odd outputs, failures, corruption."""
    # The suite compares the classifier bitwise with its own frozen and
    # optimised forward, so the daemon must not choose by timing.
    classifier_config = os.path.join(root, "classifier", "config.yaml")
    with open(classifier_config) as f:
        text = f.read()
    with open(classifier_config, "w") as f:
        f.write(text.replace("optimization: auto", "optimization: optimize"))
    write(root, "dict_outputs", DictOutputs(), """
        platform: torchscript
        max_batch_size: 4
        inputs:
          - {name: x, datatype: FP32, shape: [3]}
        outputs:
          - {name: summed, datatype: FP32, shape: [1]}
          - {name: doubled, datatype: FP32, shape: [3]}
        """)
    write(root, "list_outputs", ListOutputs(), """
        platform: torchscript
        max_batch_size: 0
        inputs:
          - {name: x, datatype: FP32, shape: [2]}
        outputs:
          - {name: plus_one, datatype: FP32, shape: [2]}
          - {name: times_three, datatype: FP32, shape: [2]}
        """)
    write(root, "failing", Failing(), """
        platform: torchscript
        max_batch_size: 0
        inputs:
          - {name: x, datatype: FP32, shape: [4]}
        outputs:
          - {name: y, datatype: FP32, shape: [4]}
        optimization: none
        """)
    write(root, "slow", Slow(), """
        platform: torchscript
        max_batch_size: 0
        inputs:
          - {name: x, datatype: FP32, shape: [64, 64]}
        outputs:
          - {name: y, datatype: FP32, shape: [64, 64]}
        optimization: none
        """)
    write(root, "slow_doubler", SlowDoubler(), """
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: x, datatype: FP32, shape: [64]}
        outputs:
          - {name: y, datatype: FP32, shape: [64]}
        optimization: none
        """)
    write(root, "spin", Spin(), """
        platform: torchscript
        max_batch_size: 0
        inputs:
          - {name: rounds, datatype: FP32, shape: [1]}
        outputs:
          - {name: y, datatype: FP32, shape: [1]}
        optimization: none
        """)
    # Two versions: the highest (3) is served; it adds 3 where version 1 adds 1.
    for version, offset in (("1", 1.0), ("3", 3.0)):
        class AddConstant(torch.nn.Module):
            def __init__(self, value: float):
                super().__init__()
                self.value = value

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x + self.value

        write(root, "versioned", AddConstant(offset), """
            platform: torchscript
            max_batch_size: 0
            inputs:
              - {name: x, datatype: FP32, shape: [2]}
            outputs:
              - {name: y, datatype: FP32, shape: [2]}
            """, version=version)
    # A model file that is not TorchScript: it must load as unavailable.
    corrupt_dir = os.path.join(root, "corrupt", "1")
    os.makedirs(corrupt_dir, exist_ok=True)
    with open(os.path.join(corrupt_dir, "model.pt"), "wb") as f:
        f.write(b"this is not a zip archive of a TorchScript module")
    with open(os.path.join(root, "corrupt", "config.yaml"), "w") as f:
        f.write(textwrap.dedent("""
            platform: torchscript
            max_batch_size: 0
            inputs:
              - {name: x, datatype: FP32, shape: [1]}
            outputs:
              - {name: y, datatype: FP32, shape: [1]}
            """).lstrip())
    write(root, "padded_sum", PaddedSum(), """
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: x, datatype: FP32, shape: [-1], pad_value: 0}
        outputs:
          - {name: sum, datatype: FP32, shape: [1]}
          - {name: padded_length, datatype: FP32, shape: [1]}
        optimization: none
        instance_groups: [{kind: CPU, count: 1, threads: 1}]
        """)
    # A model whose config declares the wrong output shape: the warm-up catches it.
    write(root, "mismatched", Identity(), """
        platform: torchscript
        max_batch_size: 0
        inputs:
          - {name: x, datatype: FP32, shape: [4]}
        outputs:
          - {name: y, datatype: FP32, shape: [5]}
        """)
    print(f"wrote test models under {root}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                        help="model repository to write the examples into")
    parser.add_argument("--test-models", metavar="DIR",
                        help="also write the test suite's models into DIR")
    args = parser.parse_args()
    torch.set_num_threads(1)
    make_examples(args.out)
    make_quantised_examples(args.out)
    if args.test_models:
        make_examples(args.test_models)
        make_quantised_examples(args.test_models)
        make_test_models(args.test_models)


if __name__ == "__main__":
    main()
