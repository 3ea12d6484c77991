"""Proofs about trained recurrent adders: ``adder verify``.

- ``zonotope``: the abstract domain (sets of hidden states) and its sound tanh transformer.
- ``elman``: an Elman RNN adder as plain float64 matrices, and the float32 rounding it can make.
- ``invariant``: regions of the hidden state, one per class of recent digit sums, shown to be
  inductive over windows of several steps, and the argmax shown right on every one.
- ``counterexample``: a concrete sum the model gets wrong, searched where the proof failed.
"""
