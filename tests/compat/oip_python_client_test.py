"""A second implementation of the Open Inference Protocol's client side.

The C++ end-to-end suite talks to the daemon with the same protobuf and gRPC
libraries the daemon is built with, so a mistake shared by both sides would
go unseen. This suite uses Python's gRPC and Python's own protobuf runtime,
with stubs generated here from proto/, and works the way Triton's Python gRPC
client does: numpy arrays sent as raw_input_contents, outputs read back with
numpy.frombuffer, the `priority` and `timeout` parameters under Triton's
names and types. It starts the real daemon on a free loopback port.

Run by ctest (label e2e):
  oip_python_client_test.py --daemon BIN --models DIR --proto-dir DIR
                            [--protoc BIN] [--grpc-python-plugin BIN]
"""

import argparse
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
import numpy as np

ARGS = None
pb = None  # grpc_service_pb2, generated in setUpModule
pb_grpc = None  # grpc_service_pb2_grpc
daemon = None
log_path = None
channel = None
stub = None


def generate_stubs(proto_dir, out_dir):
    command = [
        ARGS.protoc, f"--proto_path={proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
        "--plugin=protoc-gen-grpc=" + ARGS.grpc_python_plugin,
        os.path.join(proto_dir, "grpc_service.proto"), os.path.join(proto_dir, "model_config.proto"),
        os.path.join(proto_dir, "edgeserve.proto"),
    ]
    subprocess.run(command, check=True)
    sys.path.insert(0, out_dir)
    return importlib.import_module("grpc_service_pb2"), importlib.import_module("grpc_service_pb2_grpc")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def daemon_log():
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return log.read()


def setUpModule():
    global pb, pb_grpc, daemon, log_path, channel, stub
    work = tempfile.mkdtemp(prefix="edgeserve-python-client-")
    pb, pb_grpc = generate_stubs(ARGS.proto_dir, work)
    repository = os.path.join(work, "models")
    os.mkdir(repository)
    for model in ("identity", "add_sub", "classifier"):
        os.symlink(os.path.join(ARGS.models, model), os.path.join(repository, model))
    address = f"127.0.0.1:{free_port()}"
    log_path = os.path.join(work, "edgeserve.log")
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen([ARGS.daemon, "--model-repository", repository, "--address", address],
                                  stdout=log, stderr=subprocess.STDOUT)
    channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)])
    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError("edgeserve exited at start:\n" + daemon_log())
        try:
            if stub.ServerReady(pb.ServerReadyRequest(), timeout=1).ready:
                return
        except grpc.RpcError:
            pass
        time.sleep(0.2)
    raise RuntimeError("edgeserve was not ready within 120 s:\n" + daemon_log())


def tearDownModule():
    if channel is not None:
        channel.close()
    if daemon is not None and daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            raise
        if code != 0:
            raise RuntimeError(f"edgeserve exited {code} on SIGTERM:\n" + daemon_log())


def input_tensor(name, array, datatype):
    return pb.ModelInferRequest.InferInputTensor(name=name, datatype=datatype, shape=list(array.shape))


def output_array(response, index, dtype):
    output = response.outputs[index]
    return np.frombuffer(response.raw_output_contents[index], dtype=dtype).reshape(tuple(output.shape))


class MetadataTest(unittest.TestCase):
    def test_health(self):
        self.assertTrue(stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live)
        self.assertTrue(stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready)
        self.assertTrue(stub.ModelReady(pb.ModelReadyRequest(name="add_sub"), timeout=10).ready)

    def test_server_metadata_names_edgeserve_and_its_extensions(self):
        metadata = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=10)
        self.assertEqual(metadata.name, "edgeserve")
        self.assertTrue(metadata.version)
        self.assertIn("model_repository", metadata.extensions)
        self.assertIn("statistics", metadata.extensions)
        self.assertIn("model_configuration", metadata.extensions)

    def test_model_metadata_gives_the_declared_tensors(self):
        metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name="add_sub"), timeout=10)
        self.assertEqual(metadata.name, "add_sub")
        self.assertEqual(list(metadata.versions), ["1"])
        self.assertEqual(metadata.platform, "torchscript")
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in metadata.inputs],
                         [("INPUT0", "INT32", [-1]), ("INPUT1", "INT32", [-1])])
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in metadata.outputs],
                         [("OUTPUT0", "INT32", [-1]), ("OUTPUT1", "FP32", [-1])])
        classifier = stub.ModelMetadata(pb.ModelMetadataRequest(name="classifier"), timeout=10)
        self.assertEqual(list(classifier.inputs[0].shape), [-1, 3, 224, 224])

    def test_model_config_in_tritons_shape(self):
        model_config_pb2 = importlib.import_module("model_config_pb2")  # generated beside pb
        config = stub.ModelConfig(pb.ModelConfigRequest(name="classifier"), timeout=10).config
        self.assertEqual(config.name, "classifier")
        self.assertEqual(config.max_batch_size, 8)
        self.assertEqual([(t.name, t.data_type, list(t.dims)) for t in config.input],
                         [("images", model_config_pb2.TYPE_FP32, [3, 224, 224])])
        self.assertEqual(config.WhichOneof("scheduling_choice"), "dynamic_batching")
        self.assertEqual(config.parameters["batching.mode"].string_value, "slo")
        add_sub = stub.ModelConfig(pb.ModelConfigRequest(name="add_sub"), timeout=10).config
        self.assertEqual(add_sub.max_batch_size, 0)
        self.assertEqual([t.data_type for t in add_sub.output], [model_config_pb2.TYPE_INT32, model_config_pb2.TYPE_FP32])

    def test_repository_index_lists_the_models(self):
        index = stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=10)
        states = {model.name: model.state for model in index.models}
        self.assertEqual(states, {"identity": "READY", "add_sub": "READY", "classifier": "READY"})

    def test_unknown_model_is_not_found(self):
        with self.assertRaises(grpc.RpcError) as raised:
            stub.ModelMetadata(pb.ModelMetadataRequest(name="no_such_model"), timeout=10)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("no_such_model", raised.exception.details())


class InferTest(unittest.TestCase):
    def test_raw_inputs_and_outputs_as_numpy_arrays(self):
        a = np.arange(16, dtype=np.int32)
        b = np.full(16, 3, dtype=np.int32)
        request = pb.ModelInferRequest(model_name="add_sub", id="python-1")
        request.inputs.extend([input_tensor("INPUT0", a, "INT32"), input_tensor("INPUT1", b, "INT32")])
        request.raw_input_contents.extend([a.tobytes(), b.tobytes()])
        response = stub.ModelInfer(request, timeout=30)
        self.assertEqual(response.model_name, "add_sub")
        self.assertEqual(response.model_version, "1")
        self.assertEqual(response.id, "python-1")
        self.assertEqual([(o.name, o.datatype, list(o.shape)) for o in response.outputs],
                         [("OUTPUT0", "INT32", [16]), ("OUTPUT1", "FP32", [16])])
        np.testing.assert_array_equal(output_array(response, 0, np.int32), a + b)
        np.testing.assert_array_equal(output_array(response, 1, np.float32), (a - b).astype(np.float32))

    def test_typed_contents_a_requested_output_and_triton_parameters(self):
        values = np.linspace(-1.0, 1.0, 32, dtype=np.float32).reshape(2, 16)
        request = pb.ModelInferRequest(model_name="identity")
        tensor = input_tensor("INPUT0", values, "FP32")
        tensor.contents.fp32_contents.extend(values.ravel().tolist())
        request.inputs.append(tensor)
        request.outputs.append(pb.ModelInferRequest.InferRequestedOutputTensor(name="OUTPUT0"))
        # Triton's client sends priority as uint64 and timeout (us) as int64;
        # parameters the daemon does not know are ignored.
        request.parameters["priority"].uint64_param = 1
        request.parameters["timeout"].int64_param = 10_000_000
        request.parameters["binary_data_output"].bool_param = True
        response = stub.ModelInfer(request, timeout=30)
        self.assertEqual(len(response.outputs), 1)
        self.assertEqual(list(response.outputs[0].shape), [2, 16])
        np.testing.assert_array_equal(output_array(response, 0, np.float32), values)

    def test_classifier_batch_of_two_images(self):
        images = np.random.default_rng(7).standard_normal((2, 3, 224, 224), dtype=np.float32)
        request = pb.ModelInferRequest(model_name="classifier")
        request.inputs.append(input_tensor("images", images, "FP32"))
        request.raw_input_contents.append(images.tobytes())
        response = stub.ModelInfer(request, timeout=60)
        logits = output_array(response, 0, np.float32)
        self.assertEqual(logits.shape, (2, 1000))
        self.assertTrue(np.isfinite(logits).all())
        # Each image's row is its own: the same image alone gives the same row.
        single = pb.ModelInferRequest(model_name="classifier")
        single.inputs.append(input_tensor("images", images[1:], "FP32"))
        single.raw_input_contents.append(images[1:].tobytes())
        alone = output_array(stub.ModelInfer(single, timeout=60), 0, np.float32)
        np.testing.assert_allclose(alone[0], logits[1], rtol=1e-4, atol=1e-4)

    def test_wrong_datatype_names_the_input(self):
        values = np.zeros((1, 16), dtype=np.float64)
        request = pb.ModelInferRequest(model_name="identity")
        request.inputs.append(input_tensor("INPUT0", values, "FP64"))
        request.raw_input_contents.append(values.tobytes())
        with self.assertRaises(grpc.RpcError) as raised:
            stub.ModelInfer(request, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("INPUT0", raised.exception.details())
        self.assertIn("FP64", raised.exception.details())

    def test_raw_bytes_of_the_wrong_length_are_refused(self):
        values = np.zeros((1, 16), dtype=np.float32)
        request = pb.ModelInferRequest(model_name="identity")
        request.inputs.append(input_tensor("INPUT0", values, "FP32"))
        request.raw_input_contents.append(values.tobytes()[:-4])
        with self.assertRaises(grpc.RpcError) as raised:
            stub.ModelInfer(request, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("INPUT0", raised.exception.details())


class StatisticsTest(unittest.TestCase):
    def test_statistics_count_this_clients_inferences(self):
        def count():
            response = stub.ModelStatistics(pb.ModelStatisticsRequest(name="add_sub"), timeout=10)
            self.assertEqual(len(response.model_stats), 1)
            return response.model_stats[0].inference_count

        before = count()
        a = np.ones(4, dtype=np.int32)
        request = pb.ModelInferRequest(model_name="add_sub")
        request.inputs.extend([input_tensor("INPUT0", a, "INT32"), input_tensor("INPUT1", a, "INT32")])
        request.raw_input_contents.extend([a.tobytes(), a.tobytes()])
        for _ in range(3):
            stub.ModelInfer(request, timeout=30)
        self.assertEqual(count(), before + 3)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--daemon", required=True)
    parser.add_argument("--models", required=True, help="the test model repository")
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--protoc", default="protoc")
    parser.add_argument("--grpc-python-plugin", default="grpc_python_plugin")
    ARGS, rest = parser.parse_known_args()
    ARGS.daemon, ARGS.models, ARGS.proto_dir = map(os.path.abspath, (ARGS.daemon, ARGS.models, ARGS.proto_dir))
    # protoc runs a plugin only by its path, not by a name on PATH.
    ARGS.grpc_python_plugin = shutil.which(ARGS.grpc_python_plugin) or ARGS.grpc_python_plugin
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
