"""A model trained in PyTorch, exported to ONNX, registered and run through the bindings."""
import io
import unittest

import mlops
from mlops.infer import Session
from mlops.registry import Registry

try:
    import torch
except ImportError:
    torch = None


@unittest.skipIf(torch is None, "PyTorch is not installed for this interpreter (Debian: python3-torch)")
class TorchRoundTripTest(unittest.TestCase):
    def test_trained_torch_model_matches_through_the_registry(self):
        torch.manual_seed(0)
        x = torch.randn(256, 4)
        y = (x[:, 0] - 2 * x[:, 1] + x[:, 2] * x[:, 3] > 0).long()
        model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3),
                                    torch.nn.Softmax(dim=1))
        optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(30):
            optimiser.zero_grad()
            loss = torch.nn.functional.nll_loss(torch.log(model(x) + 1e-9), y)
            loss.backward()
            optimiser.step()
        model.eval()
        buffer = io.BytesIO()
        torch.onnx.export(model, torch.zeros(1, 4), buffer, input_names=["x"], output_names=["p"],
                          dynamic_axes={"x": {0: "batch"}, "p": {0: "batch"}}, opset_version=13)
        with mlops.open(":memory:") as db:
            registry = Registry(db)
            registry.create_model("torch")
            version = registry.register("torch", buffer.getvalue(), metadata={"framework": "pytorch"})
            artifact = registry.artifact("torch", registry.resolve(f"torch@{version}"))
        rows = torch.randn(32, 4)
        with torch.no_grad():
            want = model(rows).tolist()
        with Session(artifact, precision="fp32") as session:
            self.assertEqual((session.inputs, session.outputs), (["x"], ["p"]))
            self.assertEqual(session.output_width, 3)
            got = session.predict(rows.tolist())
        for got_row, want_row in zip(got, want):
            for g, w in zip(got_row, want_row):
                self.assertAlmostEqual(g, w, places=5)
        with Session(artifact, precision="int8") as session:
            got = session.predict(rows.tolist())
        agree = sum(max(range(3), key=g.__getitem__) == max(range(3), key=w.__getitem__) for g, w in zip(got, want))
        self.assertGreaterEqual(agree, 30)


if __name__ == "__main__":
    unittest.main()
