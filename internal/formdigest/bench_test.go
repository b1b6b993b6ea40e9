package formdigest_test

import "testing"

// One mint per POST /_api/contextinfo; one verification per write.

func BenchmarkMint(b *testing.B) {
	m, _ := fixedMinter(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Mint(ada, site); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	m, _ := fixedMinter(b)
	v, _ := m.Mint(ada, site)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Verify(v, ada, site); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	m, _ := fixedMinter(b)
	v, _ := m.Mint(ada, site)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := m.Verify(v, ada, site); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
