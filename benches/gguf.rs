//! Reading the header of a 671B GGUF: 1,025 tensor infos and the tokenizer's 129,280 tokens and
//! merges, as unsloth's DeepSeek-R1 files carry them (the test writer's layout). Budget: 5 ms.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use r1pick::catalog::import::{from_gguf, gguf};

#[path = "../tests/common/gguf_writer.rs"]
mod gguf_writer;

fn header_671b(c: &mut Criterion) {
    let g = gguf_writer::r1_671b_iq1_s();
    let limits = gguf::Limits::default();
    // a sparse file: the header, then a hole the size of the tensor data (the reader checks that
    // every tensor lies inside the file)
    let file = tempfile::NamedTempFile::new().unwrap();
    g.write(file.path());
    assert_eq!(
        gguf::read(std::fs::File::open(file.path()).unwrap(), &limits)
            .unwrap()
            .tensors
            .len(),
        1025
    );
    c.bench_function("gguf header 671B (1,025 tensors)", |b| {
        b.iter(|| {
            let h = gguf::read(std::fs::File::open(file.path()).unwrap(), &limits).unwrap();
            black_box(from_gguf::read(std::slice::from_ref(&h)).unwrap())
        })
    });
}

criterion_group!(benches, header_671b);
criterion_main!(benches);
