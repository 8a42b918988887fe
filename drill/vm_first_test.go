package drill

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"testing"

	"github.com/cavaliergopher/cpio"
)

// TestVMFirstRequestInImage: each kernel's image carries the request of
// its own first script job, the very bytes the host sends for that job
// (the guest compares them before answering with the stored reply), and
// only one guest of the kernel is told to run it.
func TestVMFirstRequestInImage(t *testing.T) {
	images := needVM(t)
	inv, err := ParseArgs([]string{"--ip_version=ipv4,ipv6", "--kernel", images[0] + "," + images[1],
		"scripts/half-close.pkt", "scripts/simultaneous-close.pkt"})
	if err != nil {
		t.Fatal(err)
	}
	// Each kernel's first job is another script (and family).
	jobs := []job{
		{path: "../scripts/half-close.pkt", ipVersion: "ipv6", kernel: images[0]},
		{path: "../scripts/simultaneous-close.pkt", ipVersion: "ipv4", kernel: images[1]},
		{path: "../scripts/half-close.pkt", ipVersion: "ipv4", kernel: images[0]},
		{path: "../scripts/half-close.pkt", ipVersion: "ipv4", kernel: images[1]},
	}
	p := &vmPool{inv: inv, kernels: map[string]*vmKernel{}, perKernel: 2}
	for _, img := range images {
		vk, err := p.openKernel(img, jobs)
		if err != nil {
			t.Fatal(err)
		}
		var firstJob job
		for _, j := range jobs {
			if j.kernel == img {
				firstJob = j
				break
			}
		}
		req, _ := request(inv, firstJob, vk)
		want, _ := json.Marshal(req)
		got := imageFile(t, vk.initrd, vmFirstRequest)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: image has %s\nwant the request of %s %s: %s", img, got, firstJob.path, firstJob.ipVersion, want)
		}
		var mu sync.Mutex
		if !vk.takeFirst(&mu) {
			t.Errorf("%s: the first guest is not given the first job", img)
		}
		if vk.takeFirst(&mu) {
			t.Errorf("%s: a second guest is given the first job too", img)
		}
	}
}

// imageFile returns a file's contents from a cpio archive.
func imageFile(t *testing.T, archive []byte, name string) []byte {
	t.Helper()
	r := cpio.NewReader(bytes.NewReader(archive))
	for {
		h, err := r.Next()
		if err == io.EOF {
			t.Fatalf("%s not in the image", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if "/"+h.Name == name {
			data, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}
