// Users: sign-up conflicts, and the sign-in defence with its cool-down.
#include "tests/commands/exchange_fixture.h"

namespace isucoin::commands::testing {
namespace {

class UsersTest : public ExchangeFixture {};

TEST_F(UsersTest, SignupsGetDenseIdsAndABankIdIsRegisteredOnce) {
  Do(GenesisSealed{});
  EXPECT_EQ(Do(SignupRequested{"a", "bank-1", "h"}),
            (std::vector<EventBody>{UserRegistered{1, "bank-1", "a", "h"}}));
  EXPECT_EQ(Do(SignupRequested{"a", "bank-2", "h"}),  // the same name is fine
            (std::vector<EventBody>{UserRegistered{2, "bank-2", "a", "h"}}));
  EXPECT_EQ(Do(SignupRequested{"b", "bank-1", "h2"}),
            (std::vector<EventBody>{SignupRejected{"bank-1", "bank_id_taken"}}));
  EXPECT_EQ(Do(SignupRequested{"c", "bank-3", "h"}),
            (std::vector<EventBody>{UserRegistered{3, "bank-3", "c", "h"}}));
}

TEST_F(UsersTest, ASignupWithAnEmptyFieldIsRejected) {
  Do(GenesisSealed{});
  auto ev = Do(SignupRequested{"", "bank-1", "h"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<CommandRejected>(ev[0]));
  EXPECT_EQ(Do(SignupRequested{"a", "bank-1", "h"}),
            (std::vector<EventBody>{UserRegistered{1, "bank-1", "a", "h"}}));
}

TEST_F(UsersTest, ASuccessfulSigninNamesTheUser) {
  Id id = Signup("alice");
  EXPECT_EQ(Do(SigninRecorded{"bank-alice", true}),
            (std::vector<EventBody>{SigninSucceeded{id, "bank-alice"}}));
}

TEST_F(UsersTest, TheSixthAttemptAfterFiveFailuresIsBlockedEvenWithTheRightPassword) {
  Id id = Signup("alice");
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(Do(SigninRecorded{"bank-alice", false}),
              (std::vector<EventBody>{SigninFailed{"bank-alice", i}}));
  }
  const Micros fifth_failure = time_ - 1'000'000;
  const Micros until = fifth_failure + 10LL * 60 * 1'000'000;
  EXPECT_EQ(Do(SigninRecorded{"bank-alice", true}),
            (std::vector<EventBody>{SigninBlocked{"bank-alice", until}}));
  // After the cool-down one attempt goes through; success resets the count.
  time_ = until;
  EXPECT_EQ(Do(SigninRecorded{"bank-alice", true}),
            (std::vector<EventBody>{SigninSucceeded{id, "bank-alice"}}));
  EXPECT_EQ(Do(SigninRecorded{"bank-alice", false}),
            (std::vector<EventBody>{SigninFailed{"bank-alice", 1}}));
}

TEST_F(UsersTest, AFailureAfterTheCooldownBlocksAgain) {
  Signup("alice");
  for (int i = 0; i < 5; ++i) Do(SigninRecorded{"bank-alice", false});
  time_ += 10LL * 60 * 1'000'000;
  EXPECT_EQ(Do(SigninRecorded{"bank-alice", false}),
            (std::vector<EventBody>{SigninFailed{"bank-alice", 6}}));
  auto ev = Do(SigninRecorded{"bank-alice", true});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<SigninBlocked>(ev[0])) << Show(ev);
}

TEST_F(UsersTest, OneSuccessResetsTheCount) {
  Id id = Signup("alice");
  for (int i = 0; i < 4; ++i) Do(SigninRecorded{"bank-alice", false});
  EXPECT_EQ(Do(SigninRecorded{"bank-alice", true}),
            (std::vector<EventBody>{SigninSucceeded{id, "bank-alice"}}));
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(Do(SigninRecorded{"bank-alice", false}),
              (std::vector<EventBody>{SigninFailed{"bank-alice", i}}));
  }
}

TEST_F(UsersTest, UnknownBankIdsAreCountedAndBlockedToo) {
  Do(GenesisSealed{});
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(Do(SigninRecorded{"nobody", true}),
              (std::vector<EventBody>{SigninFailed{"nobody", i}}));
  }
  auto ev = Do(SigninRecorded{"nobody", true});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<SigninBlocked>(ev[0]));
}

TEST_F(UsersTest, BlockingIsPerBankId) {
  Id bob = Signup("bob");
  Signup("alice");
  for (int i = 0; i < 5; ++i) Do(SigninRecorded{"bank-alice", false});
  EXPECT_EQ(Do(SigninRecorded{"bank-bob", true}),
            (std::vector<EventBody>{SigninSucceeded{bob, "bank-bob"}}));
}

}  // namespace
}  // namespace isucoin::commands::testing
