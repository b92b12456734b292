module warren/interop

go 1.19

require github.com/rabbitmq/amqp091-go v1.5.0

// Built offline against Debian's golang-github-rabbitmq-amqp091-go-dev.
replace github.com/rabbitmq/amqp091-go => /usr/share/gocode/src/github.com/rabbitmq/amqp091-go

// amqp091-go's go.mod names goleak for its own tests only; an empty stub
// satisfies the module graph without network access.
replace go.uber.org/goleak => ./third_party/goleak-stub
