module warren/tlsclient

go 1.19

require github.com/rabbitmq/amqp091-go v1.5.0

// Built offline against Debian's golang-github-rabbitmq-amqp091-go-dev (as test/interop/go).
replace github.com/rabbitmq/amqp091-go => /usr/share/gocode/src/github.com/rabbitmq/amqp091-go

replace go.uber.org/goleak => ../../../interop/go/third_party/goleak-stub
