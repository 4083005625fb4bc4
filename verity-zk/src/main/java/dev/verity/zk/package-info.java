/**
 * Zero-knowledge proofs of inference for quantized neural networks: a {@link
 * dev.verity.zk.QuantizedModel} (integer weights, int16 activations) is proven to map the input in
 * an {@link dev.verity.zk.InputCommitment} to a public output, bound to the model's {@link
 * dev.verity.zk.VerifyingKey}. Entry points: {@link dev.verity.zk.OnnxCompiler} (ONNX file to
 * {@link dev.verity.zk.CompiledModel}), {@link dev.verity.zk.ModelProver} (node side), {@link
 * dev.verity.zk.ZkEvidenceVerifier} (receipts of mode zk), and {@link dev.verity.zk.ZkInference}
 * (the proof system itself). The protocol, security argument and privacy argument are in
 * docs/ZK.md; the receipt format in PROTOCOL.md section 10.
 */
package dev.verity.zk;
