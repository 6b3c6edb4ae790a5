// The seed's Messaging section in C++: a dispatcher, a subscription, a message.
#include <cstdio>

#include <concert/concert.hpp>

// [messaging]
struct object {
    const char* name;
};

void handle_message(object* sender) {
    std::printf("%s send me a message\n", sender->name);
}
// [messaging]

int main() {
    {
        // [own-dispatcher]
        concert::Dispatcher dispatcher;

        object obj{"obj"};
        dispatcher.subscribe(&obj, "foo", handle_message);
        dispatcher.send(&obj, "foo");
        // [own-dispatcher]
        dispatcher.flush();
    }

    // [global-dispatcher]
    object motor{"motor"};
    concert::scoped_subscription subscribed{
        concert::dispatcher.subscribe(&motor, "stopped", handle_message)};
    concert::dispatcher.send(&motor, "stopped");
    concert::dispatcher.flush();  // returns once the handler has run
    // [global-dispatcher]
}
