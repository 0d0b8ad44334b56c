from fastconv.graph.ir import Graph, Node, TensorInfo

__all__ = ["Graph", "Node", "TensorInfo"]
