// DELETE /order/{id}: own and open orders only; each refusal is a distinct outcome.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class CancelTest : public TwoTradersFixture {};

TEST_F(CancelTest, AnOpenOrderOfTheUserIsCancelled) {
  Id o = Buy(alice, 1, 100);
  auto ev = Do(CancelRequested{alice, o});
  EXPECT_EQ(ev, (std::vector<EventBody>{OrderCancelled{o, alice, Side::kBuy,
                                                       CancelReason::kCanceled, last_offset_}}));
  EXPECT_EQ(exchange_.open_order_count(), 0u);
  EXPECT_EQ(exchange_.best_bid(), std::nullopt);
}

TEST_F(CancelTest, AnUnknownOrderIsNotFound) {
  auto ev = Do(CancelRequested{alice, 999});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    CancelRejected{999, alice, CancelRefusal::kNotFound, last_offset_}}));
}

TEST_F(CancelTest, AnotherUsersOrderIsRefusedAndStaysOpen) {
  Id o = Buy(alice, 1, 100);
  auto ev = Do(CancelRequested{bob, o});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    CancelRejected{o, bob, CancelRefusal::kNotOwner, last_offset_}}));
  EXPECT_EQ(exchange_.best_bid(), 100);
}

TEST_F(CancelTest, ACancelledOrderIsAlreadyClosed) {
  Id o = Buy(alice, 1, 100);
  Do(CancelRequested{alice, o});
  auto ev = Do(CancelRequested{alice, o});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    CancelRejected{o, alice, CancelRefusal::kAlreadyClosed, last_offset_}}));
}

TEST_F(CancelTest, ATradedOrderIsAlreadyClosed) {
  Id s = Sell(alice, 1, 100);
  std::vector<EventBody> placed;
  Buy(bob, 1, 100, &placed);
  ReserveAll(*FindMatch(placed));
  auto ev = Do(CancelRequested{alice, s});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    CancelRejected{s, alice, CancelRefusal::kAlreadyClosed, last_offset_}}));
}

TEST_F(CancelTest, ALockedOrderWaitsAndIsClosedWhenTheTradeExecutes) {
  Id s = Sell(alice, 1, 100);
  std::vector<EventBody> placed;
  Buy(bob, 1, 100, &placed);
  const MatchProposed m = *FindMatch(placed);
  auto ev = Do(CancelRequested{alice, s});
  const std::uint64_t cancel_offset = last_offset_;
  EXPECT_EQ(ev, (std::vector<EventBody>{CancelDeferred{s, m.match_id, cancel_offset}}));
  ev = ReserveAll(m);
  ASSERT_EQ(ev.size(), 2u) << Show(ev);
  EXPECT_TRUE(std::holds_alternative<TradeExecuted>(ev[0]));
  EXPECT_EQ(ev[1], EventBody(CancelRejected{s, alice, CancelRefusal::kAlreadyClosed,
                                            cancel_offset}));
}

TEST_F(CancelTest, ALockedOrderWaitsAndIsCancelledWhenTheMatchAborts) {
  Id s = Sell(alice, 1, 100);
  std::vector<EventBody> placed;
  Id b = Buy(bob, 1, 100, &placed);
  const MatchProposed m = *FindMatch(placed);
  Do(CancelRequested{alice, s});
  const std::uint64_t first = last_offset_;
  Do(CancelRequested{alice, s});  // a double click
  const std::uint64_t second = last_offset_;
  auto ev = Do(ReservationsReported{m.match_id, {{b, std::nullopt, "credit is insufficient"},
                                                 {s, 77, ""}}});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    OrderCancelled{b, bob, Side::kBuy, CancelReason::kReserveFailed, std::nullopt},
                    MatchAborted{m.match_id, AbortReason::kReserveFailed, {77}},
                    OrderCancelled{s, alice, Side::kSell, CancelReason::kCanceled, first},
                    CancelRejected{s, alice, CancelRefusal::kAlreadyClosed, second}}));
  EXPECT_EQ(exchange_.open_order_count(), 0u);
}

TEST_F(CancelTest, ACancelWaitingOnAnOrderWhoseReservationFailedFindsItClosed) {
  Id s = Sell(alice, 1, 100);
  std::vector<EventBody> placed;
  Id b = Buy(bob, 1, 100, &placed);
  const MatchProposed m = *FindMatch(placed);
  Do(CancelRequested{bob, b});
  const std::uint64_t request = last_offset_;
  auto ev = Do(ReservationsReported{m.match_id, {{b, std::nullopt, "credit is insufficient"},
                                                 {s, 77, ""}}});
  EXPECT_EQ(ev, (std::vector<EventBody>{
                    OrderCancelled{b, bob, Side::kBuy, CancelReason::kReserveFailed, std::nullopt},
                    CancelRejected{b, bob, CancelRefusal::kAlreadyClosed, request},
                    MatchAborted{m.match_id, AbortReason::kReserveFailed, {77}}}));
  EXPECT_EQ(exchange_.best_ask(), 100);  // the seller is back in the book
}

}  // namespace
}  // namespace isucoin::commands::testing
