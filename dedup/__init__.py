"""Near-duplicate detection at corpus scale: MinHash signatures, LSH banding, clusters, keep rule.

Plain Python and numpy (no Beam), so the logic is testable alone and usable from any engine;
`corpusmill.pipelines.dedup` runs it over a corpus. The MinHash core (shingles, signatures)
is `corpusmill.minhash`, in the core so that `synth` can share it. Modules, in data-flow
order: `config` (options, banding from the threshold, the S-curve), `lsh` (band keys,
candidate pairs), `components` (min-label propagation steps), `keep` (which document of a
cluster stays), `work` (the job's per-file and per-cluster work), `sidecar` (the output schema).

A room of its own, not `mixers/`: finding near-duplicates needs the whole corpus and writes
a label sidecar (like an annotator's), while the mixer only selects by labels; keeping it
apart lets other engines (or `synth`) use it without the mixer.
"""
