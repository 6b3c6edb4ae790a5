// concert::any_sender: one handler for a message whoever sends it. A frame counter listens to the
// "frame" message of every camera; its subscription is a member, so a destroyed counter is never
// called.
#include <cstdio>
#include <string>
#include <vector>

#include <concert/concert.hpp>

struct camera {
    std::string name;

    void grab() { concert::dispatcher.send(this, "frame"); }
};

// [any-sender]
class frame_counter {
  public:
    // Read after concert::dispatcher.flush(): the handler runs on the delivery thread.
    int frames() const { return frames_; }

  private:
    void count(const void* sender) {
        ++frames_;
        std::printf("frame %d from %s\n", frames_,
                    static_cast<const camera*>(sender)->name.c_str());
    }

    int frames_ = 0;
    // Last, so that it unsubscribes before the members its handler uses are destroyed.
    concert::scoped_subscription on_frame_{concert::dispatcher.subscribe(
        concert::any_sender, "frame", [this](const void* sender) { count(sender); })};
};
// [any-sender]

int main() {
    frame_counter counter;
    std::vector<camera> cameras{{"ccd"}, {"cmos"}};
    for (int round = 0; round < 2; ++round) {
        for (auto& c : cameras) {
            c.grab();
        }
    }
    concert::dispatcher.flush();  // every handler call above has finished
    std::printf("%d frames from %zu cameras\n", counter.frames(), cameras.size());
}
