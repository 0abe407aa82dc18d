// Bad input gets a clear refusal and changes nothing.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class InvalidCommandTest : public ExchangeFixture {
 protected:
  void ExpectRejected(CommandBody body, const std::string& words) {
    const std::uint64_t before = exchange_.StateHash();
    auto ev = Do(std::move(body));
    ASSERT_EQ(ev.size(), 1u) << Show(ev);
    const auto* rejected = std::get_if<CommandRejected>(&ev[0]);
    ASSERT_NE(rejected, nullptr) << Show(ev);
    EXPECT_NE(rejected->reason.find(words), std::string::npos) << rejected->reason;
    EXPECT_EQ(exchange_.StateHash(), before);
  }
};

TEST_F(InvalidCommandTest, OrdersOutOfRangeOrFromNobodyAreRejected) {
  Id a = Signup("a");
  ExpectRejected(OrderPlaced{a, Side::kBuy, 0, 100}, "amount");
  ExpectRejected(OrderPlaced{a, Side::kBuy, -3, 100}, "amount");
  ExpectRejected(OrderPlaced{a, Side::kBuy, 1'000'000'001, 100}, "amount");
  ExpectRejected(OrderPlaced{a, Side::kSell, 1, 0}, "price");
  ExpectRejected(OrderPlaced{a, Side::kSell, 1, 1'000'000'001}, "price");
  ExpectRejected(OrderPlaced{a + 1, Side::kSell, 1, 100}, "unknown user");
  Id o = Buy(a, 1'000'000'000, 1'000'000'000);  // the limits themselves are fine
  EXPECT_GT(o, 0);
}

TEST_F(InvalidCommandTest, ABuyRefusedByTheBankIsRecordedForTheLog) {
  Id a = Signup("a");
  EXPECT_EQ(Do(BuyCreditRefused{a, 5, 100, "銀行の残高が足りません"}),
            (std::vector<EventBody>{BuyRejected{a, 5, 100, "銀行の残高が足りません"}}));
  EXPECT_EQ(exchange_.open_order_count(), 0u);
}

TEST_F(InvalidCommandTest, EveryEventCarriesItsCommandsOffsetIndexAndTime) {
  Id a = Signup("a");
  Sell(a, 1, 100);
  Command cmd{41, 123456, OrderPlaced{a, Side::kBuy, 1, 100}};
  auto ev = exchange_.apply(cmd);
  ASSERT_EQ(ev.size(), 2u);
  for (std::uint32_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].seq, (Sequence{41, i}));
    EXPECT_EQ(ev[i].time, 123456);
  }
}

}  // namespace
}  // namespace isucoin::commands::testing
