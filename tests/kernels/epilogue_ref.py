"""float64 reference of the fused conv epilogue (fastconv/kernels/numba/epilogue.py), shared by kernel tests."""
import numpy as np

from fastconv.kernels.numba.epilogue import Epilogue

# every activation with its parameters, as the fusion pass would produce them
EPILOGUES = [Epilogue(a, al, be, res)
             for a, al, be in [(None, 0, 0), ("Relu", 0, 0), ("Clip", -0.5, 0.75), ("LeakyRelu", 0.1, 0),
                               ("HardSigmoid", 0.2, 0.5), ("HardSwish", 0, 0), ("Sigmoid", 0, 0), ("Silu", 0, 0),
                               ("Tanh", 0, 0), ("Mish", 0, 0)]
             for res in (False, True)]


def reference(y, epilogue: Epilogue, residual=None):
    a = np.asarray(y, np.float64)
    if epilogue.residual:
        a = a + residual
    k = epilogue.activation
    with np.errstate(over="ignore", invalid="ignore"):
        if k == "Relu":
            a = np.maximum(a, 0)
        elif k == "Clip":
            a = np.minimum(np.maximum(a, epilogue.alpha), epilogue.beta)
        elif k == "LeakyRelu":
            a = np.where(a < 0, a * epilogue.alpha, a)
        elif k == "HardSigmoid":
            a = np.clip(a * epilogue.alpha + epilogue.beta, 0, 1)
        elif k == "HardSwish":
            a = a * np.clip(a / 6 + 0.5, 0, 1)
        elif k == "Sigmoid":
            a = 1 / (1 + np.exp(-a))
        elif k == "Silu":
            a = a / (1 + np.exp(-a))
        elif k == "Tanh":
            a = np.tanh(a)
        elif k == "Mish":
            a = a * np.tanh(np.logaddexp(a, 0))
    return a
