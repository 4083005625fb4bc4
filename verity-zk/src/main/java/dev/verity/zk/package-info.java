/**
 * Zero-knowledge proofs of inference for quantized neural networks: a {@link
 * dev.verity.zk.QuantizedModel} (integer weights, int16 activations) is proven to map the input in
 * an {@link dev.verity.zk.InputCommitment} to a public output, bound to the model's {@link
 * dev.verity.zk.VerifyingKey}. Entry point: {@link dev.verity.zk.ZkInference}. The protocol,
 * security argument and privacy argument are in docs/ZK.md.
 */
package dev.verity.zk;
