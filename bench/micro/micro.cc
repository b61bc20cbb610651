// bench/micro/micro.cc - kmbench-micro: the google-benchmark suite over the kmbench C library.
//
// 1. Names (filter with --benchmark_filter, compare with --benchmark_out=F.json):
//      pair/<spec>/<size>                kmalloc then kfree of one size, one thread
//      pair/<spec>/<size>/real_time/threads:<n>  the same in n threads at once
//                                        (ThreadRange(1, PUs)), each pinned to its own PU
//                                        through hwloc and attached as CPU index n
//                                        (items_per_second: the aggregate)
//      kmem_pair/<spec>/<size>[/real_time/threads:<n>]  kmem_alloc(KM_SLEEP) then
//                                        kmem_free(p, size), as pair: the backend's sized
//                                        free (backend.h free_sized) beside pair's kfree
//      burst/<spec>/<size>/<count>       count kmallocs, then count kfrees (refills, slow paths)
//      cache/<spec>/<size>               kmem_cache_alloc then kmem_cache_free
//      raw/<allocator>/<size>            a baseline's own malloc then free: no kmbench at all
//      buddy/order<N>/<pcp|nopcp>        the buddy page allocator alone, orders 0..10
//      vmem_fit/<instant|best|next>/<n>  one alloc+free on an arena holding n free segments
//      replay/<spec>/<workload>[/notiming]/manual_time  the replay engine (bench/engine/replay.c),
//                                        one thread, latency timing on (off)
//      parse/ftrace                      the ftrace text parser on the bundled trace
//      timer/cycles                      one timed empty interval (kmb_cycles(), kmb_cycles_end())
//    Every <spec> kmbench knows (kmb_backend_at: kernel designs, composed specs, baselines),
//    and those of --kmb_specs=LIST (specs with tunables, plugins: "slab(magsize=1),vmem(
//    qcache_max=0)"; google-benchmark never sees that flag).
// 2. Booting.  A benchmark's threads share one booted system: thread 0 boots (or keeps the
//    system booted by the previous benchmark when spec and memory are the same, so that the
//    many short runs google-benchmark makes cost no boot), every thread then pins itself and
//    attaches; after the timed loop they detach.  burst boots afresh per benchmark so that its
//    footprint peak is its own.  The replay engine boots by itself (the suite shuts its
//    system down first) and its own loop time is the benchmark's time (UseManualTime).
// 3. Counters: items_per_second (pairs, allocations, operations, lines), bytes_per_second
//    (requested bytes), and for burst and replay the peak footprint (kmb_memstat peak_pages:
//    pages of data and metadata, or a baseline's own statistics), its ratio to the requested
//    bytes, and the internal fragmentation 100 * (usable - requested) / usable at the peak.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h> // before the extern "C" block that includes core/clock.h
#endif

extern "C" {
#include <kmbench/kmem.h>
#include <kmbench/page_alloc.h>
#ifdef KMB_HAVE_BASELINE // any backend folder may be left out of the build (KMB_BACKENDS)
#include "backends/baseline/baseline.h"
#endif
#ifdef KMB_HAVE_VMEM
#include "backends/vmem/vmem.h"
#endif
#include "bench/bench.h"
#include "core/clock.h"
#include "workloads/gen.h"
#include "workloads/trace.h"
}
#include "micro.h"

namespace
{

constexpr size_t kDefaultMem = KMB_DEFAULT_MEM_BYTES;

// ---- threads: a reusable barrier, hwloc placement -------------------------------------------

class Barrier
{
      public:
	void wait(int n)
	{
		std::unique_lock<std::mutex> l(m_);
		uint64_t gen = gen_;

		if (++count_ == n) {
			count_ = 0;
			gen_++;
			cv_.notify_all();
			return;
		}
		cv_.wait(l, [&] { return gen_ != gen; });
	}

      private:
	std::mutex m_;
	std::condition_variable cv_;
	int count_ = 0;
	uint64_t gen_ = 0;
};

Barrier g_barrier;

struct Topology {
	struct kmb_topo tp {
	};
	bool ok = false;
	Topology()
	{
		char err[256];

		ok = kmb_topo_load(&tp, nullptr, err, sizeof(err)) == 0;
		if (!ok)
			std::fprintf(stderr, "kmbench-micro: %s (threads are not pinned)\n", err);
	}
	~Topology()
	{
		if (ok)
			kmb_topo_free(&tp);
	}
	unsigned pus() const
	{
		return ok && tp.npus ? tp.npus : std::max(1u, std::thread::hardware_concurrency());
	}
	// Pin the calling thread, the i-th of n, to its PU (spread placement: cores first).
	void pin(unsigned i, unsigned n) const
	{
		std::vector<unsigned> pu(n);

		if (!ok)
			return;
		kmb_topo_place(&tp, n, false, pu.data());
		kmb_topo_bind_self(&tp, pu[i]);
	}
};

const Topology &topology()
{
	static Topology t;
	return t;
}

unsigned ncpus()
{
	return std::min<unsigned>(std::max(2u, topology().pus()), KMB_MAX_CPUS);
}

// ---- the booted system (2.) -------------------------------------------------------------------

struct BootKey {
	std::string spec, group; // group: "" shares the boot; a benchmark name boots afresh
	size_t mem = 0;
	bool operator==(const BootKey &o) const
	{
		return spec == o.spec && group == o.group && mem == o.mem;
	}
};

BootKey g_key;
bool g_booted;
std::string g_boot_error;

void shutdown_system()
{
	if (g_booted) {
		if (kmb_shutdown() != 0)
			std::fprintf(stderr, "kmbench-micro: %s: shutdown found leaks\n",
			             g_key.spec.c_str());
		g_booted = false;
	}
}

bool boot_system(const BootKey &key)
{
	if (g_booted && g_key == key)
		return true;
	shutdown_system();
	struct kmb_config cfg {
	};
	cfg.backend = key.spec.c_str();
	cfg.mem_bytes = key.mem;
	cfg.nodes = 1;
	cfg.ncpus = ncpus();
	cfg.invariants = KMB_INVARIANTS_OFF;
	int rc = kmb_boot(&cfg);
	if (rc != 0) {
		g_boot_error = "kmb_boot(" + key.spec + "): " + std::strerror(-rc);
		return false;
	}
	g_key = key;
	g_booted = true;
	return true;
}

// One benchmark thread's share of a booted system: boot (thread 0), pin, attach; detach.
class Session
{
      public:
	Session(benchmark::State &state, const BootKey &key) : state_(state)
	{
		static std::atomic<bool> ok;

		if (state.thread_index() == 0)
			ok.store(boot_system(key));
		g_barrier.wait(state.threads());
		ok_ = ok.load();
		if (!ok_) {
			state.SkipWithError(g_boot_error.c_str());
			return;
		}
		topology().pin(unsigned(state.thread_index()), unsigned(state.threads()));
		char name[32];
		std::snprintf(name, sizeof(name), "micro-%d", state.thread_index());
		attached_ = kmb_thread_attach(name, unsigned(state.thread_index())) == 0;
	}
	~Session()
	{
		if (attached_)
			kmb_thread_detach();
		g_barrier.wait(state_.threads());
	}
	bool ok() const
	{
		return ok_;
	}

      private:
	benchmark::State &state_;
	bool ok_ = false, attached_ = false;
};

std::vector<std::string> g_extra_specs; // --kmb_specs=LIST: specs with tunables, and plugins

std::vector<std::string> specs()
{
	std::vector<std::string> v;

	for (size_t i = 0; i < kmb_backend_count(); i++)
		v.push_back(kmb_backend_at(i)->name);
	v.insert(v.end(), g_extra_specs.begin(), g_extra_specs.end());
	return v;
}

// --kmb_specs=LIST (comma-separated, commas inside parentheses kept: "slab(magsize=1)"):
// each spec checked as kmbench does, removed from argv before google-benchmark's flags.
// 0, or 2 with one line on a bad spec.
int take_spec_flag(int *argc, char **argv)
{
	static const char flag[] = "--kmb_specs=";
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (std::strncmp(argv[i], flag, sizeof(flag) - 1) != 0) {
			argv[out++] = argv[i];
			continue;
		}
		std::string list = argv[i] + sizeof(flag) - 1, cur;
		int depth = 0;

		list += ',';
		for (char c : list) {
			depth += c == '(' ? 1 : c == ')' ? -1 : 0;
			if (c != ',' || depth > 0) {
				cur += c;
				continue;
			}
			char err[512];
			if (kmb_spec_check(cur.c_str(), err, sizeof(err)) != 0) {
				std::fprintf(stderr, "kmbench-micro: %s\n", err);
				return 2;
			}
			g_extra_specs.push_back(cur);
			cur.clear();
		}
	}
	*argc = out;
	argv[out] = nullptr;
	return 0;
}

// ---- pair, burst, cache, raw -------------------------------------------------------------------

// Kmem: kmem_alloc and the sized kmem_free (kmem_pair) instead of kmalloc and kfree (pair).
template <bool Kmem> void BM_pair(benchmark::State &state, std::string spec, size_t size)
{
	Session s(state, {spec, "", kDefaultMem});

	if (!s.ok())
		return;
	for (auto _ : state) {
		void *p = Kmem ? kmem_alloc(size, KM_SLEEP) : kmalloc(size, M_MICRO, M_WAITOK);

		benchmark::DoNotOptimize(p);
		if (Kmem)
			kmem_free(p, size);
		else
			kfree(p, M_MICRO);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * int64_t(size));
}

void BM_burst(benchmark::State &state, std::string spec, size_t size, size_t count,
              std::string name)
{
	size_t mem =
	        std::max(kDefaultMem, size_t(1) << (64 - __builtin_clzll(2 * size * count - 1)));
	Session s(state, {spec, name, mem}); // a boot of its own: its footprint peak
	std::vector<void *> v(count);

	if (!s.ok())
		return;
	for (auto _ : state) {
		for (size_t i = 0; i < count; i++)
			v[i] = kmalloc(size, M_MICRO, M_WAITOK);
		benchmark::ClobberMemory();
		for (size_t i = 0; i < count; i++)
			kfree(v[i], M_MICRO);
	}
	state.SetItemsProcessed(state.iterations() * int64_t(count));
	state.SetBytesProcessed(state.iterations() * int64_t(count * size));
	// One more burst, untimed: the internal fragmentation at its peak.
	double usable = 0;
	for (size_t i = 0; i < count; i++) {
		v[i] = kmalloc(size, M_MICRO, M_WAITOK);
		usable += double(kmalloc_usable_size(v[i]));
	}
	for (size_t i = 0; i < count; i++)
		kfree(v[i], M_MICRO);
	struct kmb_memstat ms;
	kmb_memstat(&ms);
	double peak = double(ms.peak_pages) * KMB_PAGE_SIZE;
	state.counters["footprint_peak_bytes"] = peak;
	state.counters["footprint_ratio"] = peak / double(size * count);
	state.counters["ifrag_pct"] = 100.0 * (usable - double(size * count)) / usable;
}

void BM_cache(benchmark::State &state, std::string spec, size_t size)
{
	Session s(state, {spec, "", kDefaultMem});

	if (!s.ok())
		return;
	std::string name = "micro-" + std::to_string(size);
	struct kmem_cache *c = kmem_cache_create(name.c_str(), size, 8, 0);
	if (c == nullptr) {
		state.SkipWithError("kmem_cache_create failed");
		return;
	}
	for (auto _ : state) {
		void *p = kmem_cache_alloc(c, M_WAITOK);

		benchmark::DoNotOptimize(p);
		kmem_cache_free(c, p);
	}
	kmem_cache_destroy(c);
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * int64_t(size));
}

#ifdef KMB_HAVE_BASELINE
void BM_raw(benchmark::State &state, std::string name, size_t size)
{
	const struct kmb_baseline_alloc *a;
	char err[320];

	if (kmb_baseline_get(name.c_str(), &a, err, sizeof(err)) != 0) {
		state.SkipWithError(err);
		return;
	}
	topology().pin(0, 1);
	for (auto _ : state) {
		void *p = a->malloc(size);

		benchmark::DoNotOptimize(p);
		a->free(p);
	}
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * int64_t(size));
}
#endif

// ---- buddy and vmem, alone over their own physical memory ---------------------------------------

struct PhysMem {
	struct kmb_physmem pm {
	};
	int rc;
	explicit PhysMem(size_t bytes) : rc(kmb_micro_physmem_init(&pm, bytes))
	{
	}
	~PhysMem()
	{
		if (rc == 0)
			kmb_micro_physmem_fini(&pm);
	}
};

PhysMem &physmem()
{
	static PhysMem pm(kDefaultMem);
	return pm;
}

void BM_buddy(benchmark::State &state, unsigned order, bool pcp)
{
	struct kmb_buddy *b;

	shutdown_system();
	if (physmem().rc != 0 || kmb_buddy_create(&physmem().pm, 1, pcp, &b) != 0) {
		state.SkipWithError("cannot create the buddy allocator");
		return;
	}
	topology().pin(0, 1);
	for (auto _ : state) {
		void *p = kmb_buddy_alloc_pages(b, order, 0);

		benchmark::DoNotOptimize(p);
		if (p == nullptr) {
			state.SkipWithError("kmb_buddy_alloc_pages failed");
			break;
		}
		kmb_buddy_free_pages(b, p, order);
	}
	kmb_buddy_destroy(b);
	state.SetItemsProcessed(state.iterations());
	state.SetBytesProcessed(state.iterations() * int64_t(KMB_PAGE_SIZE << order));
}

#ifdef KMB_HAVE_VMEM
void count_seg(void *arg, uintptr_t, size_t)
{
	++*static_cast<size_t *>(arg);
}

// An arena of n free segments of 2 quanta, each followed by an allocated one of 1 quantum, and
// a free tail of 4 quanta; each iteration allocates and frees 3 quanta.  Instant fit goes to
// the list of segments of 4..8 quanta (the tail) at once; best fit searches the 2..4 list
// (n segments too small); next fit walks from its rotor.
void BM_vmem_fit(benchmark::State &state, int policy, size_t n)
{
	constexpr size_t q = 16;
	constexpr uintptr_t base = uintptr_t(1) << 32;
	struct kmb_buddy *b;
	kmb_vmem_t *vm;

	shutdown_system();
	if (physmem().rc != 0 || kmb_buddy_create(&physmem().pm, 1, false, &b) != 0) {
		state.SkipWithError("cannot create the buddy allocator");
		return;
	}
	struct kmb_vmem_meta meta = {kmb_buddy_pagesrc(b), &physmem().pm};
	if (kmb_vmem_create("micro", base, n * 3 * q + 4 * q, q, nullptr, nullptr, nullptr, 0, 0,
	                    &meta, &vm) != 0) {
		kmb_buddy_destroy(b);
		state.SkipWithError("kmb_vmem_create failed");
		return;
	}
	std::vector<void *> two(n);
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		two[i] = kmb_vmem_alloc(vm, 2 * q, KMB_VM_INSTANTFIT);
		ok = two[i] != nullptr && kmb_vmem_alloc(vm, q, KMB_VM_INSTANTFIT) != nullptr;
	}
	for (size_t i = 0; i < n && ok; i++)
		kmb_vmem_free(vm, two[i], 2 * q);
	size_t nfree = 0;
	kmb_vmem_walk(vm, KMB_VMEM_FREE, count_seg, &nfree);
	if (!ok || nfree != n + 1) {
		state.SkipWithError("the arena did not fragment as planned");
	} else {
		topology().pin(0, 1);
		for (auto _ : state) {
			void *p = kmb_vmem_alloc(vm, 3 * q, policy);

			benchmark::DoNotOptimize(p);
			kmb_vmem_free(vm, p, 3 * q);
		}
		state.SetItemsProcessed(state.iterations());
		state.counters["free_segments"] = double(nfree);
	}
	kmb_vmem_destroy(vm);
	kmb_buddy_destroy(b);
}
#endif

// ---- replay, parse, timer -----------------------------------------------------------------------

struct Workload {
	std::string name;
	std::string path; // for messages and the replay's record
	struct kmb_trace trace {
	};
	struct kmb_trace_facts facts {
	};
	struct kmb_plan plan {
	};
	bool loaded = false;
	std::string error;
	~Workload()
	{
		kmb_plan_free(&plan);
		kmb_trace_free(&trace);
	}
};

// The bundled trace, or a generated one ("larson:1000000": workload:events, one CPU).
Workload *workload(const std::string &name)
{
	static std::vector<std::unique_ptr<Workload>> cache;

	for (auto &w : cache)
		if (w->name == name)
			return w.get();
	cache.emplace_back(new Workload);
	Workload *w = cache.back().get();
	w->name = name;
	// one engine function from a workload argument to its plan (bench/engine/workload.c)
	struct kmb_workload_src src {
	};
	std::string arg = name == "boot" ? KMB_BUNDLED_TRACE : name.substr(0, name.find(':'));
	if (name != "boot") {
		src.gopt.events = std::stoull(name.substr(name.find(':') + 1));
		src.gopt.cpus = 1;
	}
	src.gopt.seed = 1;
	int rc = kmb_workload_open(arg.c_str(), false, &src, &w->trace, &w->facts, &w->plan);
	w->path = src.source;
	w->loaded = rc == 0;
	if (!w->loaded)
		w->error = name + ": " + std::strerror(-rc) + " (see stderr)";
	return w;
}

void BM_replay(benchmark::State &state, std::string spec, std::string wname, bool timing)
{
	Workload *w = workload(wname);

	if (!w->loaded) {
		state.SkipWithError(w->error.c_str());
		return;
	}
	shutdown_system();
	struct kmb_replay_opts o {
	};
	o.backend = spec.c_str();
	o.invariants = KMB_INVARIANTS_OFF;
	o.timing = timing;
	o.threads = 1;
	// at least ~2 million operations per replay: boot and set-up are not in its time
	o.repeat = unsigned(std::max<uint64_t>(1, 2000000 / std::max<uint64_t>(1, w->plan.nop)));
	uint64_t ops = 0;
	double footprint = 0, ifrag = 0, ratio = 0, overhead = 0, cpu = 0;
	for (auto _ : state) {
		struct kmb_replay_result r;
		char err[512];

		std::memset(&r, 0, sizeof(r));
		if (kmb_replay(&w->plan, &w->facts, w->path.c_str(), &o, &r, err, sizeof(err)) !=
		            0 ||
		    r.aborted) {
			state.SkipWithError(r.aborted ? r.abort_msg : err);
			kmb_replay_result_free(&r);
			break;
		}
		state.SetIterationTime(r.seconds);
		ops += r.ops;
		cpu += r.cpu_seconds;
		footprint = double(r.peak_footprint_bytes);
		ratio = r.jw_peak_footprint_ratio;
		ifrag = r.internal_frag_pct;
		overhead = r.timer_overhead_ns;
		kmb_replay_result_free(&r);
	}
	state.SetItemsProcessed(int64_t(ops));
	state.counters["footprint_peak_bytes"] = footprint;
	state.counters["footprint_ratio"] = ratio;
	state.counters["ifrag_pct"] = ifrag;
	// the replay thread's CPU time in its loop: steadier than the wall time on a busy machine
	state.counters["loop_cpu_ns_per_op"] = ops ? cpu * 1e9 / double(ops) : 0;
	if (timing)
		state.counters["timer_overhead_ns"] = overhead;
}

void BM_parse_ftrace(benchmark::State &state)
{
	uint64_t lines = 0, bytes = 0;
	FILE *f = std::fopen(kmb_default_trace(), "rb");

	if (f == nullptr) {
		state.SkipWithError("cannot open the bundled trace");
		return;
	}
	std::fseek(f, 0, SEEK_END);
	uint64_t size = uint64_t(std::ftell(f));
	std::fclose(f);
	for (auto _ : state) {
		struct kmb_trace t;
		struct kmb_trace_opts o {
		};
		char err[512];

		if (kmb_trace_load(kmb_default_trace(), &o, &t, err, sizeof(err)) != 0) {
			kmb_trace_free(&t);
			state.SkipWithError(err);
			break;
		}
		lines += t.lines;
		bytes += size;
		kmb_trace_free(&t);
	}
	state.SetItemsProcessed(int64_t(lines));
	state.SetBytesProcessed(int64_t(bytes));
}

void BM_timer_cycles(benchmark::State &state)
{
	for (auto _ : state) {
		uint64_t a = kmb_cycles();
		uint64_t b = kmb_cycles_end();

		benchmark::DoNotOptimize(b - a);
	}
	state.counters["ns_per_cycle"] = kmb_clock_ns_per_cycle();
	state.counters["replay_timer_overhead_ns"] = kmb_clock_overhead_ns();
}

// ---- registration
// ---------------------------------------------------------------------------------

const size_t kSizes[] = {16, 64, 256, 1024, 4096, 16384};
const size_t kCounts[] = {64, 1024, 16384};

void register_all()
{
	using benchmark::RegisterBenchmark;
	unsigned pus = topology().pus();

	for (bool kmem : {false, true})
		for (const std::string &spec : specs())
			for (size_t size : kSizes) {
				std::string n = (kmem ? "kmem_pair/" : "pair/") + spec + "/" +
				                std::to_string(size);
				auto fn = kmem ? BM_pair<true> : BM_pair<false>;

				RegisterBenchmark(n.c_str(), fn, spec, size);
				RegisterBenchmark(n.c_str(), fn, spec, size)
				        ->ThreadRange(1, int(std::min(pus, ncpus())))
				        ->UseRealTime();
			}
	for (const std::string &spec : specs())
		for (size_t size : kSizes)
			RegisterBenchmark(("cache/" + spec + "/" + std::to_string(size)).c_str(),
			                  BM_cache, spec, size);
	for (const std::string &spec : specs())
		for (size_t size : kSizes)
			for (size_t count : kCounts) {
				std::string n = "burst/" + spec + "/" + std::to_string(size) + "/" +
				                std::to_string(count);
				RegisterBenchmark(n.c_str(), BM_burst, spec, size, count, n);
			}
#ifdef KMB_HAVE_BASELINE
	for (size_t i = 0; kmb_baseline_name(i) != nullptr; i++)
		for (size_t size : kSizes)
			RegisterBenchmark(("raw/" + std::string(kmb_baseline_name(i)) + "/" +
			                   std::to_string(size))
			                          .c_str(),
			                  BM_raw, std::string(kmb_baseline_name(i)), size);
#endif
	for (unsigned order = 0; order <= KMB_BUDDY_MAX_ORDER; order++)
		for (bool pcp : {true, false})
			RegisterBenchmark(
			        ("buddy/order" + std::to_string(order) + (pcp ? "/pcp" : "/nopcp"))
			                .c_str(),
			        BM_buddy, order, pcp);
#ifdef KMB_HAVE_VMEM
	const struct {
		const char *name;
		int policy;
	} fits[] = {
	        {"instant", KMB_VM_INSTANTFIT}, {"best", KMB_VM_BESTFIT}, {"next", KMB_VM_NEXTFIT}};
	for (auto &f : fits)
		for (size_t n : {10, 100, 1000, 10000, 100000})
			RegisterBenchmark(
			        ("vmem_fit/" + std::string(f.name) + "/" + std::to_string(n))
			                .c_str(),
			        BM_vmem_fit, f.policy, n);
#endif
	const struct {
		const char *name, *source;
	} workloads[] = {
	        {"boot", "boot"},                   // the bundled Linux 3.6 boot trace
	        {"larson", "larson:1000000"},       // generated, one CPU
	        {"vfs-cache", "vfs-cache:1000000"}, // generated, one CPU
	};
	for (const std::string &spec : specs())
		for (auto &w : workloads)
			for (bool timing : {true, false})
				RegisterBenchmark(("replay/" + spec + "/" + w.name +
				                   (timing ? "" : "/notiming"))
				                          .c_str(),
				                  BM_replay, spec, std::string(w.source), timing)
				        ->UseManualTime()
				        ->Unit(benchmark::kMillisecond);
	// the target: a 10-million-event generated trace on the slab backend
	for (bool timing : {true, false})
		RegisterBenchmark(
		        ("replay/slab/larson-10M" + std::string(timing ? "" : "/notiming")).c_str(),
		        BM_replay, std::string("slab"), std::string("larson:10000000"), timing)
		        ->UseManualTime()
		        ->Unit(benchmark::kMillisecond);
	RegisterBenchmark("parse/ftrace", BM_parse_ftrace)->Unit(benchmark::kMillisecond);
	RegisterBenchmark("timer/cycles", BM_timer_cycles);
}

} // namespace

int main(int argc, char **argv)
{
	if (kmb_clock_calibrate() != 0)
		std::fprintf(stderr,
		             "kmbench-micro: the cycle counter does not follow the clock\n");
	if (take_spec_flag(&argc, argv) != 0)
		return 2;
	register_all();
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::AddCustomContext("kmbench_ncpus", std::to_string(ncpus()));
	benchmark::AddCustomContext("kmbench_invariants", "off");
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	shutdown_system();
	return 0;
}
